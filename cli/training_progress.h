// Progress lines on stderr for the library's long calls (asking a teacher,
// training), drawn from their distill_progress callbacks. On a terminal the
// line redraws in place; otherwise (logs, CI) one line per epoch or every
// tenth of the work, so a log stays readable.
#pragma once

#include <distill/distill.h>

#include <csignal>
#include <string>
#include <vector>

namespace distill_cli {

// Set by the SIGINT handler; the callbacks then ask the library to stop.
extern volatile std::sig_atomic_t interrupted;
// Installs a SIGINT handler that sets `interrupted` (a second Ctrl-C kills).
void install_interrupt_handler();

class training_progress {
public:
    explicit training_progress(std::string label);
    // The callback and user_data to put in the library's options.
    static distill_status callback(void * user_data, const distill_progress * progress);
    // Per-epoch figures seen so far (EPOCH_END events).
    const std::vector<double> & epoch_losses() const { return epoch_losses_; }
    const std::vector<double> & epoch_val_accuracies() const { return epoch_val_accuracies_; }
    // Ends the line drawn in place, if any.
    void finish();

private:
    void draw(const distill_progress & p);
    std::string label_;
    bool terminal_;
    bool line_open_ = false;
    int64_t last_tenth_ = -1;
    std::vector<double> epoch_losses_;
    std::vector<double> epoch_val_accuracies_;
};

}  // namespace distill_cli
