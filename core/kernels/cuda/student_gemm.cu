// gemm: the row-major C[m, n] = alpha · op(A)[m, k] · op(B)[k, n] + beta · C
// of the backend table (core/backend/cuda_backend_api.h, the CPU's
// core/students/layers/blas.h) through cublasSgemm, which is column-major.
//
// A row-major matrix read column-major is its transpose, so the row-major
// product C = op(A)·op(B) is the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: cuBLAS
// gets B first and A second, with their own transpose flags, and n and m
// swapped: sgemm(op_b, op_a, n, m, k, alpha, B, ldb, A, lda, beta, C, ldc).
// The leading dimensions carry over unchanged (a row stride in row-major
// is the column stride of the transpose). The session's handle computes
// in plain fp32 (CUBLAS_DEFAULT_MATH, set in session_create: no TF32).
#include <climits>

#include "student_primitives.cuh"
#include "student_session.cuh"

namespace distill::kernels::cuda {

int32_t gemm(void * session, int32_t trans_a, int32_t trans_b, int64_t m, int64_t n, int64_t k,
             float alpha, const float * a, int64_t lda, const float * b, int64_t ldb, float beta,
             float * c, int64_t ldc, char * error, size_t error_capacity) {
    constexpr const char * int_limit = "cuBLAS takes int sizes";
    argument_checks checks("gemm", error, error_capacity);
    checks.session(session)
        .one_of_two("trans_a", trans_a, "1: A is stored [k, m]")
        .one_of_two("trans_b", trans_b, "1: B is stored [n, k]")
        .non_negative("m", m)
        .non_negative("n", n)
        .non_negative("k", k)
        .at_most("m", m, INT_MAX, int_limit)
        .at_most("n", n, INT_MAX, int_limit)
        .at_most("k", k, INT_MAX, int_limit)
        .at_least("lda", lda, trans_a != 0 ? m : k, trans_a != 0 ? "m (trans_a = 1)" : "k")
        .at_least("ldb", ldb, trans_b != 0 ? k : n, trans_b != 0 ? "k (trans_b = 1)" : "n")
        .at_least("ldc", ldc, n, "n")
        .at_most("lda", lda, INT_MAX, int_limit)
        .at_most("ldb", ldb, INT_MAX, int_limit)
        .at_most("ldc", ldc, INT_MAX, int_limit);
    // k = 0 still scales C by beta (as the CPU's BLAS does), without
    // reading A or B.
    const bool empty = m == 0 || n == 0;
    checks.pointer("a", a, !empty && k > 0)
        .pointer("b", b, !empty && k > 0)
        .pointer("c", c, !empty);
    if (checks.status() != status_ok) return checks.status();
    if (empty) return status_ok;

    return run_on_session(session, error, error_capacity, [&](student_session & s) -> int32_t {
        // cuBLAS wants every leading dimension >= 1, even for an operand
        // it does not read (k = 0): the checks above allow lda = 0 there.
        const auto leading = [](int64_t ld) { return static_cast<int>(ld > 1 ? ld : 1); };
        const cublasStatus_t result = s.libraries->cublas.sgemm(
            s.cublas, trans_b != 0 ? CUBLAS_OP_T : CUBLAS_OP_N,
            trans_a != 0 ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n), static_cast<int>(m),
            static_cast<int>(k), &alpha, b, leading(ldb), a, leading(lda), &beta, c, leading(ldc));
        if (result != CUBLAS_STATUS_SUCCESS)
            return report_cublas(s, result, "gemm (cublasSgemm)", error, error_capacity);
        return status_ok;
    });
}

}  // namespace distill::kernels::cuda
