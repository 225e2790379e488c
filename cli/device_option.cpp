#include "device_option.h"

#include <cctype>
#include <climits>
#include <cstdlib>

namespace distill_cli {

distill::ContextOptions device_context_options(const std::string & text, int threads) {
    if (text.empty() || text == "cpu") return distill::ContextOptions::cpu(threads);
    if (text == "cuda") return distill::ContextOptions::cuda(0);
    const std::string prefix = "cuda:";
    if (text.compare(0, prefix.size(), prefix) == 0 && text.size() > prefix.size() &&
        text.size() <= prefix.size() + 4) {
        const std::string digits = text.substr(prefix.size());
        bool all_digits = true;
        for (char c : digits) all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
        if (all_digits) return distill::ContextOptions::cuda(std::atoi(digits.c_str()));
    }
    throw distill::Exception(DISTILL_STATUS_INVALID_ARGUMENT,
                             "--device: expected cpu, cuda or cuda:N (N a device number), got '" +
                                 text + "'");
}

}  // namespace distill_cli
