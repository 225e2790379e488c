// The installed C++ wrapper: version check, one loss through RAII handles.
#include <distill/distill.hpp>

#include <cmath>
#include <cstdio>

int main() {
    try {
        distill::check_library_version();

        // One row, V = 2: student [0, 0] → q = [½, ½]; teacher logits
        // [0, 0] → p = q, so KL(p‖q) = 0.
        float student[2] = {0.0f, 0.0f};
        float teacher[2] = {0.0f, 0.0f};
        float loss = -1.0f;
        int64_t shape[2] = {1, 2};
        const DLDataType f32{kDLFloat, 32, 1};
        const DLDevice cpu_device{kDLCPU, 0};
        DLTensor student_t{student, cpu_device, 2, f32, shape, nullptr, 0};
        DLTensor teacher_t{teacher, cpu_device, 2, f32, shape, nullptr, 0};
        DLTensor loss_t{&loss, cpu_device, 0, f32, nullptr, nullptr, 0};

        distill::Context cpu;
        distill::KdLossOptions options;
        distill::kd_loss(cpu, options, student_t, teacher_t, nullptr, loss_t);
        if (std::fabs(loss) > 1e-6f) {
            std::fprintf(stderr, "expected a zero loss, got %g\n", loss);
            return 1;
        }
        std::printf("C++ consumer: libdistill %s, loss %g\n", distill_version(), loss);
        return 0;
    } catch (const distill::Exception & e) {
        std::fprintf(stderr, "C++ consumer: %s\n", e.what());
        return 1;
    }
}
