/* Built with only `pkg-config --cflags --libs distill`: the .pc file must
 * be enough to compile and link a C program against the installed library. */
#include <distill/distill.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    distill_context * cpu = NULL;
    if (strcmp(distill_version(), DISTILL_VERSION_STRING) != 0 ||
        distill_abi_version() != DISTILL_ABI_VERSION) {
        fprintf(stderr, "header %s does not match libdistill %s\n", DISTILL_VERSION_STRING,
                distill_version());
        return 1;
    }
    if (distill_context_create(NULL, &cpu) != DISTILL_STATUS_OK) {
        fprintf(stderr, "distill_context_create: %s\n", distill_last_error_message());
        return 1;
    }
    distill_context_free(cpu);
    printf("C consumer (pkg-config): libdistill %s\n", distill_version());
    return 0;
}
