#include "training_progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace distill_cli {

volatile std::sig_atomic_t interrupted = 0;

namespace {
void on_interrupt(int) {
    if (interrupted) std::_Exit(130);
    interrupted = 1;
}

std::string bar(double fraction, int width) {
    const int filled = int(std::lround(std::fmin(1.0, std::fmax(0.0, fraction)) * width));
    return std::string(size_t(filled), '#') + std::string(size_t(width - filled), '.');
}
}  // namespace

void install_interrupt_handler() { std::signal(SIGINT, on_interrupt); }

training_progress::training_progress(std::string label)
    : label_(std::move(label)), terminal_(isatty(STDERR_FILENO) != 0) {}

distill_status training_progress::callback(void * user_data, const distill_progress * progress) {
    auto * self = static_cast<training_progress *>(user_data);
    self->draw(*progress);
    return interrupted ? DISTILL_STATUS_CANCELLED : DISTILL_STATUS_OK;
}

void training_progress::draw(const distill_progress & p) {
    const double fraction = p.total > 0 ? double(p.done) / double(p.total) : 1.0;
    char line[256];
    if (p.event == DISTILL_PROGRESS_ASK) {
        const double rate = p.elapsed_seconds > 0 ? double(p.done) / p.elapsed_seconds : 0.0;
        std::snprintf(line, sizeof line,
                      "%s [%s] %lld/%lld examples, %lld asked, %lld from the store, %.0f/s",
                      label_.c_str(), bar(fraction, 24).c_str(), (long long)p.done,
                      (long long)p.total, (long long)p.asked, (long long)p.from_store, rate);
    } else {
        if (p.event == DISTILL_PROGRESS_EPOCH_END) {
            epoch_losses_.push_back(p.loss);
            epoch_val_accuracies_.push_back(p.val_accuracy);
        }
        char validation[64] = "";
        if (!std::isnan(p.val_accuracy))
            std::snprintf(validation, sizeof validation, ", validation accuracy %.4f", p.val_accuracy);
        std::snprintf(line, sizeof line, "%s epoch %lld/%lld [%s] loss %.4f%s (%.1f s)",
                      label_.c_str(), (long long)p.epoch, (long long)p.epochs,
                      bar(fraction, 24).c_str(), p.loss, validation, p.elapsed_seconds);
    }
    const bool epoch_end = p.event == DISTILL_PROGRESS_EPOCH_END;
    if (terminal_) {
        std::fprintf(stderr, "\r\033[K%s", line);
        line_open_ = true;
        if (epoch_end || (p.event == DISTILL_PROGRESS_ASK && p.done == p.total)) finish();
    } else {
        const int64_t tenth = int64_t(fraction * 10);
        if (epoch_end || (p.event == DISTILL_PROGRESS_ASK && tenth != last_tenth_))
            std::fprintf(stderr, "%s\n", line);
        last_tenth_ = tenth;
    }
    std::fflush(stderr);
}

void training_progress::finish() {
    if (line_open_) std::fputc('\n', stderr);
    line_open_ = false;
}

}  // namespace distill_cli
