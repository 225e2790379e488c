// conv2d_forward / conv2d_backward: core/students/layers/conv2d.h's
// convolution (NCHW, stride 1, zero padding P on every side, PyTorch's
// cross-correlation) through cuDNN's legacy convolution API.
//
// Dimensions (dims[8] = {N, C, H, W, OC, KH, KW, P}):
//   in[N, C, H, W], weight[OC, C, KH, KW], bias[OC]
//   out[N, OC, OH, OW], OH = H + 2P − KH + 1, OW = W + 2P − KW + 1
//
// Numerics: fp32 data and fp32 compute, math type CUDNN_FMA_MATH (no
// tensor cores, hence no TF32), so the results match the CPU's im2col +
// GEMM to rounding. The algorithms are fixed, not searched, and are
// deterministic (the same bits on every run): forward IMPLICIT_GEMM,
// backward data ALGO_1, backward filter ALGO_1 (cuDNN's ALGO_0 and
// ALGO_3 are the non-deterministic ones). The bias and its gradient are
// the backend's own bias_add / bias_grad kernels, over [N, OC, OH·OW].
//
// Descriptors are made per call (cheap host objects) and owned by an RAII
// holder, so no error path leaks them; the workspace is the session's.
#include <climits>
#include <cstdint>

#include "student_primitives.cuh"
#include "student_session.cuh"

namespace distill::kernels::cuda {
namespace {

constexpr cudnnConvolutionFwdAlgo_t forward_algorithm = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
constexpr cudnnConvolutionBwdDataAlgo_t backward_data_algorithm = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
constexpr cudnnConvolutionBwdFilterAlgo_t backward_filter_algorithm =
    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;

// dims, checked and narrowed to cuDNN's int.
struct conv_shape {
    int N, C, H, W, OC, KH, KW, P, OH, OW;
    int64_t weights() const { return int64_t{OC} * C * KH * KW; }
};

// a · b · c · d for non-negative factors, INT64_MAX when it overflows.
int64_t saturating_product(int64_t a, int64_t b, int64_t c, int64_t d) {
    int64_t ab = 0, abc = 0, abcd = 0;
    if (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, &abc) ||
        __builtin_mul_overflow(abc, d, &abcd))
        return INT64_MAX;
    return abcd;
}

// dims' checks: N >= 0 (0: an empty batch), the others >= 1, P >= 0,
// OH, OW >= 1, and every tensor within cuDNN's int element counts.
int32_t check_conv(argument_checks & checks, const void * session, const int64_t * dims,
                   conv_shape * shape) {
    checks.session(session);
    if (checks.status() != status_ok) return checks.status();
    if (dims == nullptr) {
        checks.pointer("dims", dims, true);
        return checks.status();
    }
    static constexpr const char * names[8] = {"dims[0] (N)",  "dims[1] (C)",  "dims[2] (H)",
                                              "dims[3] (W)",  "dims[4] (OC)", "dims[5] (KH)",
                                              "dims[6] (KW)", "dims[7] (P)"};
    for (int i = 0; i < 8; ++i) {
        if (i == 0 || i == 7)
            checks.non_negative(names[i], dims[i]);
        else
            checks.positive(names[i], dims[i]);
        checks.at_most(names[i], dims[i], INT_MAX, "cuDNN takes int sizes");
    }
    if (checks.status() != status_ok) return checks.status();
    const int64_t OH = dims[2] + 2 * dims[7] - dims[5] + 1;
    const int64_t OW = dims[3] + 2 * dims[7] - dims[6] + 1;
    checks.positive("OH = H + 2P - KH + 1", OH).positive("OW = W + 2P - KW + 1", OW);
    // cuDNN's legacy descriptors take int strides: each tensor's element
    // count must fit an int.
    constexpr const char * limit = "cuDNN's int element count";
    checks.at_most("OH", OH, INT_MAX, "cuDNN takes int sizes")
        .at_most("OW", OW, INT_MAX, "cuDNN takes int sizes")
        .at_most("N * C * H * W", saturating_product(dims[0], dims[1], dims[2], dims[3]), INT_MAX,
                 limit)
        .at_most("N * OC * OH * OW", saturating_product(dims[0], dims[4], OH, OW), INT_MAX, limit)
        .at_most("OC * C * KH * KW", saturating_product(dims[4], dims[1], dims[5], dims[6]),
                 INT_MAX, limit);
    if (checks.status() != status_ok) return checks.status();
    *shape = {static_cast<int>(dims[0]), static_cast<int>(dims[1]), static_cast<int>(dims[2]),
              static_cast<int>(dims[3]), static_cast<int>(dims[4]), static_cast<int>(dims[5]),
              static_cast<int>(dims[6]), static_cast<int>(dims[7]), static_cast<int>(OH),
              static_cast<int>(OW)};
    return status_ok;
}

// The four descriptors of one convolution; destroyed with the holder.
class conv_descriptors {
public:
    explicit conv_descriptors(const cudnn_functions & cudnn) : cudnn_(cudnn) {}
    ~conv_descriptors() {
        if (convolution != nullptr) (void)cudnn_.destroy_convolution_descriptor(convolution);
        if (filter != nullptr) (void)cudnn_.destroy_filter_descriptor(filter);
        if (output != nullptr) (void)cudnn_.destroy_tensor_descriptor(output);
        if (input != nullptr) (void)cudnn_.destroy_tensor_descriptor(input);
    }
    conv_descriptors(const conv_descriptors &) = delete;
    conv_descriptors & operator=(const conv_descriptors &) = delete;

    // Creates and sets all four; on failure *failed names the call.
    cudnnStatus_t make(const conv_shape & s, const char ** failed) {
        cudnnStatus_t r = CUDNN_STATUS_SUCCESS;
        const auto step = [&](cudnnStatus_t result, const char * name) {
            if (r == CUDNN_STATUS_SUCCESS && result != CUDNN_STATUS_SUCCESS) {
                r = result;
                *failed = name;
            }
            return r == CUDNN_STATUS_SUCCESS;
        };
        step(cudnn_.create_tensor_descriptor(&input), "cudnnCreateTensorDescriptor") &&
            step(cudnn_.set_tensor_4d_descriptor(input, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s.N,
                                                 s.C, s.H, s.W),
                 "cudnnSetTensor4dDescriptor (input)") &&
            step(cudnn_.create_tensor_descriptor(&output), "cudnnCreateTensorDescriptor") &&
            step(cudnn_.set_tensor_4d_descriptor(output, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s.N,
                                                 s.OC, s.OH, s.OW),
                 "cudnnSetTensor4dDescriptor (output)") &&
            step(cudnn_.create_filter_descriptor(&filter), "cudnnCreateFilterDescriptor") &&
            step(cudnn_.set_filter_4d_descriptor(filter, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, s.OC,
                                                 s.C, s.KH, s.KW),
                 "cudnnSetFilter4dDescriptor") &&
            step(cudnn_.create_convolution_descriptor(&convolution),
                 "cudnnCreateConvolutionDescriptor") &&
            step(cudnn_.set_convolution_2d_descriptor(convolution, s.P, s.P, 1, 1, 1, 1,
                                                      CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                 "cudnnSetConvolution2dDescriptor") &&
            step(cudnn_.set_convolution_math_type(convolution, CUDNN_FMA_MATH),
                 "cudnnSetConvolutionMathType (CUDNN_FMA_MATH)");
        return r;
    }

    cudnnTensorDescriptor_t input = nullptr;   // in / d_in   [N, C, H, W]
    cudnnTensorDescriptor_t output = nullptr;  // out / d_out [N, OC, OH, OW]
    cudnnFilterDescriptor_t filter = nullptr;  // weight / d_weight [OC, C, KH, KW]
    cudnnConvolutionDescriptor_t convolution = nullptr;

private:
    const cudnn_functions & cudnn_;
};

// The session's cuDNN handle and this shape's descriptors.
int32_t prepare(student_session & s, const conv_shape & shape, conv_descriptors & descriptors,
                cudnnHandle_t * handle, char * error, size_t capacity) {
    const int32_t ready = session_cudnn(s, handle, error, capacity);
    if (ready != status_ok) return ready;
    const char * failed = "";
    const cudnnStatus_t made = descriptors.make(shape, &failed);
    if (made != CUDNN_STATUS_SUCCESS) return report_cudnn(s, made, failed, error, capacity);
    return status_ok;
}

}  // namespace

int32_t conv2d_forward(void * session, const int64_t dims[8], float * out, const float * in,
                       const float * weight, const float * bias, char * error,
                       size_t error_capacity) {
    argument_checks checks("conv2d_forward", error, error_capacity);
    conv_shape shape{};
    if (check_conv(checks, session, dims, &shape) != status_ok) return checks.status();
    const bool work = shape.N > 0;
    checks.pointer("out", out, work)
        .pointer("in", in, work)
        .pointer("weight", weight, work)
        .pointer("bias", bias, work);
    if (checks.status() != status_ok) return checks.status();
    if (!work) return status_ok;

    return run_on_session(session, error, error_capacity, [&](student_session & s) -> int32_t {
        const cudnn_functions & cudnn = s.libraries->cudnn;
        conv_descriptors d(cudnn);
        cudnnHandle_t handle = nullptr;
        const int32_t prepared = prepare(s, shape, d, &handle, error, error_capacity);
        if (prepared != status_ok) return prepared;

        size_t bytes = 0;
        const cudnnStatus_t sized = cudnn.forward_workspace_size(
            handle, d.input, d.filter, d.convolution, d.output, forward_algorithm, &bytes);
        if (sized != CUDNN_STATUS_SUCCESS)
            return report_cudnn(s, sized,
                                "conv2d_forward (cudnnGetConvolutionForwardWorkspaceSize, "
                                "IMPLICIT_GEMM)",
                                error, error_capacity);
        void * workspace = nullptr;
        const int32_t grown = session_workspace(s, bytes, &workspace, error, error_capacity);
        if (grown != status_ok) return grown;

        const float one = 1.0f, zero = 0.0f;  // beta = 0: out's old contents are not read
        const cudnnStatus_t ran =
            cudnn.convolution_forward(handle, &one, d.input, in, d.filter, weight, d.convolution,
                                      forward_algorithm, workspace, bytes, &zero, d.output, out);
        if (ran != CUDNN_STATUS_SUCCESS)
            return report_cudnn(s, ran, "conv2d_forward (cudnnConvolutionForward)", error,
                                error_capacity);
        return launch_bias_add(out, bias, shape.N, shape.OC, int64_t{shape.OH} * shape.OW, s.stream,
                               error, error_capacity);
    });
}

int32_t conv2d_backward(void * session, const int64_t dims[8], float * d_in, float * d_weight,
                        float * d_bias, const float * d_out, const float * in, const float * weight,
                        char * error, size_t error_capacity) {
    argument_checks checks("conv2d_backward", error, error_capacity);
    conv_shape shape{};
    if (check_conv(checks, session, dims, &shape) != status_ok) return checks.status();
    const bool work = shape.N > 0;
    checks.pointer("d_weight", d_weight, true)
        .pointer("d_bias", d_bias, true)
        .pointer("d_out", d_out, work)
        .pointer("in", in, work)
        .pointer("weight", weight, work && d_in != nullptr);
    if (checks.status() != status_ok) return checks.status();

    return run_on_session(session, error, error_capacity, [&](student_session & s) -> int32_t {
        if (!work) {  // an empty batch: zero gradients, as the CPU layer
            const cudaError_t zeroed = cudaMemsetAsync(
                d_weight, 0, static_cast<size_t>(shape.weights()) * sizeof(float), s.stream);
            if (zeroed != cudaSuccess)
                return report_cuda(zeroed, "conv2d_backward (zeroing d_weight, cudaMemsetAsync)",
                                   error, error_capacity);
            return launch_bias_grad(d_bias, d_out, 0, shape.OC, 1, s.stream, error, error_capacity);
        }
        const cudnn_functions & cudnn = s.libraries->cudnn;
        conv_descriptors d(cudnn);
        cudnnHandle_t handle = nullptr;
        const int32_t prepared = prepare(s, shape, d, &handle, error, error_capacity);
        if (prepared != status_ok) return prepared;

        // One workspace for both calls: the larger of the two needs.
        size_t filter_bytes = 0, data_bytes = 0;
        const cudnnStatus_t filter_sized =
            cudnn.backward_filter_workspace_size(handle, d.input, d.output, d.convolution, d.filter,
                                                 backward_filter_algorithm, &filter_bytes);
        if (filter_sized != CUDNN_STATUS_SUCCESS)
            return report_cudnn(s, filter_sized,
                                "conv2d_backward (cudnnGetConvolutionBackwardFilterWorkspaceSize, "
                                "ALGO_1)",
                                error, error_capacity);
        if (d_in != nullptr) {
            const cudnnStatus_t data_sized =
                cudnn.backward_data_workspace_size(handle, d.filter, d.output, d.convolution,
                                                   d.input, backward_data_algorithm, &data_bytes);
            if (data_sized != CUDNN_STATUS_SUCCESS)
                return report_cudnn(
                    s, data_sized,
                    "conv2d_backward (cudnnGetConvolutionBackwardDataWorkspaceSize, "
                    "ALGO_1)",
                    error, error_capacity);
        }
        const size_t bytes = filter_bytes > data_bytes ? filter_bytes : data_bytes;
        void * workspace = nullptr;
        const int32_t grown = session_workspace(s, bytes, &workspace, error, error_capacity);
        if (grown != status_ok) return grown;

        const float one = 1.0f, zero = 0.0f;  // beta = 0: the gradients are overwritten
        // d_weight[OC, C, KH, KW] = Σ over the batch of d_out ⋆ in
        const cudnnStatus_t filter_ran = cudnn.convolution_backward_filter(
            handle, &one, d.input, in, d.output, d_out, d.convolution, backward_filter_algorithm,
            workspace, filter_bytes, &zero, d.filter, d_weight);
        if (filter_ran != CUDNN_STATUS_SUCCESS)
            return report_cudnn(s, filter_ran, "conv2d_backward (cudnnConvolutionBackwardFilter)",
                                error, error_capacity);
        // d_bias[OC] = Σ_n Σ_(oh, ow) d_out[n, oc, oh, ow]
        const int32_t summed =
            launch_bias_grad(d_bias, d_out, shape.N, shape.OC, int64_t{shape.OH} * shape.OW,
                             s.stream, error, error_capacity);
        if (summed != status_ok || d_in == nullptr) return summed;
        // d_in[N, C, H, W] = d_out ⋆ᵀ weight (the transposed convolution)
        const cudnnStatus_t data_ran = cudnn.convolution_backward_data(
            handle, &one, d.filter, weight, d.output, d_out, d.convolution, backward_data_algorithm,
            workspace, data_bytes, &zero, d.input, d_in);
        if (data_ran != CUDNN_STATUS_SUCCESS)
            return report_cudnn(s, data_ran, "conv2d_backward (cudnnConvolutionBackwardData)",
                                error, error_capacity);
        return status_ok;
    });
}

}  // namespace distill::kernels::cuda
