/* distill.h compiled as C99 with -Wall -Wextra -pedantic -Werror: the public
 * header must never require C++ or a compiler extension. Referencing a few
 * declarations makes sure they are seen as C, not just skipped. */
#include <distill/distill.h>

#include <stdio.h>

int main(void) {
    distill_kd_loss_options options;
    distill_context_options context_options;
    distill_status (*loss_fn)(const distill_context *, const distill_kd_loss_options *,
                              const DLTensor *, const DLTensor *, const DLTensor *, DLTensor *,
                              DLTensor *) = distill_kd_loss;
    (void)options;
    (void)context_options;
    (void)loss_fn;
    printf("distill.h is valid C99 (DISTILL_ABI_VERSION %d)\n", DISTILL_ABI_VERSION);
    return 0;
}
