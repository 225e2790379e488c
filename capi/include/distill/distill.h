/*
 * distill.h — the stable C ABI of libdistill.
 *
 * Valid C99 and C++. Every function is prefixed `distill_`; every fallible
 * function returns a distill_status (0 = DISTILL_STATUS_OK) and, on failure,
 * leaves its out-parameters untouched and records a message that names the
 * argument, the expected and the actual value, readable on the same thread
 * with distill_last_error_message(). No C++ exception crosses this boundary.
 *
 * Tensors cross as DLPack DLTensor (<dlpack/dlpack.h>), read in place: the
 * library never copies or keeps them past the call. Handles are opaque,
 * created by *_create, released by *_free (which accepts NULL).
 *
 * Growth: option structs start with `uint32_t struct_size`, filled by their
 * *_options_init(); fields are only ever appended, and the library reads only
 * the fields that the caller's struct_size covers (the rest take defaults).
 * Changed behaviour gets a new function (`_v2`), never a changed signature.
 */
#ifndef DISTILL_DISTILL_H
#define DISTILL_DISTILL_H

#include <stddef.h>
#include <stdint.h>

#include <dlpack/dlpack.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(DISTILL_BUILDING_LIBRARY) && defined(__GNUC__)
#define DISTILL_API __attribute__((visibility("default")))
#else
#define DISTILL_API
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */
/* ------------------------------------------------------------------------ */

#define DISTILL_VERSION_MAJOR 0
#define DISTILL_VERSION_MINOR 1
#define DISTILL_VERSION_PATCH 0
#define DISTILL_VERSION_STRING "0.1.0"
/* Bumped on every backward-compatible addition to this header; a binding
 * compiled against DISTILL_ABI_VERSION = n runs on any library whose
 * distill_abi_version() >= n with the same DISTILL_VERSION_MAJOR. */
#define DISTILL_ABI_VERSION 1

/* The library's version as "MAJOR.MINOR.PATCH"; a static string, never NULL. */
DISTILL_API const char * distill_version(void);
/* The library's DISTILL_ABI_VERSION, to compare with the header's. */
DISTILL_API uint32_t distill_abi_version(void);

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */
/* ------------------------------------------------------------------------ */

typedef int32_t distill_status;
enum {
    DISTILL_STATUS_OK = 0,
    /* An argument is NULL, out of range, or of the wrong shape/dtype/device. */
    DISTILL_STATUS_INVALID_ARGUMENT = 1,
    /* The request is valid but this build or machine cannot do it (no CUDA
     * backend, no GPU, an option combination that is mathematically
     * undefined such as reverse KL against a renormalised top-k teacher). */
    DISTILL_STATUS_UNSUPPORTED = 2,
    DISTILL_STATUS_OUT_OF_MEMORY = 3,
    /* A failure inside the library or a device runtime (CUDA error, ...). */
    DISTILL_STATUS_INTERNAL = 4,
    /* A user callback asked to stop the operation. */
    DISTILL_STATUS_CANCELLED = 5
};

/* A static, human-readable name for a status ("INVALID_ARGUMENT"). */
DISTILL_API const char * distill_status_name(distill_status status);

/* The message of the last failed call on the calling thread ("" if none).
 * Valid until the next distill_* call on this thread; copy it to keep it. */
DISTILL_API const char * distill_last_error_message(void);

/* ------------------------------------------------------------------------ */
/* Context: where and how work runs                                          */
/* ------------------------------------------------------------------------ */

typedef struct distill_context distill_context;

typedef enum { DISTILL_DEVICE_CPU = 0, DISTILL_DEVICE_CUDA = 1 } distill_device_type;

typedef struct distill_context_options {
    uint32_t struct_size; /* = sizeof(distill_context_options), set by init */
    int32_t device_type;  /* distill_device_type; default DISTILL_DEVICE_CPU */
    int32_t device_id;    /* CUDA device ordinal; ignored on the CPU; default 0 */
    int32_t num_threads;  /* CPU threads per call; 0 (default) = all cores */
    void * cuda_stream;   /* cudaStream_t to enqueue on; NULL = the legacy
                             default stream. Not owned. */
} distill_context_options;

/* Fills *options with the defaults above. Errors: options == NULL. */
DISTILL_API distill_status distill_context_options_init(distill_context_options * options);

/* Creates a context. options may be NULL (defaults). On a CUDA device the
 * CUDA backend (libdistill_cuda.so, beside libdistill.so) is loaded on
 * first use; without it, or without a usable GPU, this returns
 * DISTILL_STATUS_UNSUPPORTED with the reason. A context is immutable:
 * it may be used from any number of threads at once.
 * Errors: out == NULL, bad options, no CUDA backend or device. */
DISTILL_API distill_status distill_context_create(const distill_context_options * options,
                                                  distill_context ** out);

/* Releases a context; NULL is accepted. Not while another thread uses it. */
DISTILL_API void distill_context_free(distill_context * context);

/* Number of CUDA devices usable through the CUDA backend, in *out_count;
 * 0 when the backend cannot be loaded or the machine has no GPU (that is
 * not an error). Errors: out_count == NULL. */
DISTILL_API distill_status distill_cuda_device_count(int32_t * out_count);

/* ------------------------------------------------------------------------ */
/* The distillation-loss family                                              */
/* ------------------------------------------------------------------------ */
/*
 * For one row, z is the student's logits (length V), T the temperature,
 * q = softmax(z / T) the student's distribution, p the teacher's:
 *
 *  dense teacher     p = softmax(t / T) from teacher logits t (length V;
 *                    -inf entries are allowed and mean p = 0 there).
 *  top-k teacher     K ids and their log-probabilities l (as returned by
 *                    OpenAI-compatible servers: log-probabilities at T = 1).
 *    RENORMALIZE     p_i ∝ exp(l_i / T) at the K ids and 0 elsewhere; q is
 *                    the full-vocabulary student distribution.
 *                    (Reverse KL is undefined here — p = 0 where q > 0 — and
 *                    is refused; use BUCKET or a dense teacher.)
 *    BUCKET          both sides reduced to K + 1 categories, the K ids and
 *                    "the rest": p_i ∝ exp(l_i / T) at the ids and
 *                    p_rest ∝ (1 − Σ exp(l_i))^(1/T); q_i = softmax(z/T)_i at
 *                    the ids and q_rest = 1 − Σ q_i, computed as the sum of
 *                    q over the entries outside the top-k (no cancellation:
 *                    exactly 0 when K = V).
 *                    A tail 1 − Σ exp(l_i) below 1e-6 is rounding and counts
 *                    as 0 (tempering would magnify it: (1e-7)^(1/10) = 0.2).
 *
 * Divergences, with 0·log 0 = 0:
 *  FORWARD_KL  KL(p‖q) = Σ p (log p − log q)
 *  REVERSE_KL  KL(q‖p) = Σ q (log q − log p)   (+inf where p = 0 < q)
 *  JSD         m = β·p + (1 − β)·q; β·KL(p‖m) + (1 − β)·KL(q‖m), where
 *              β = 0 is exactly forward KL(p‖q) and β = 1 exactly reverse
 *              KL(q‖p) (as in TRL's GKD), not the 0 the interior formula
 *              tends to.
 *  TVD         ½·Σ |p − q|; its gradient is 0 where p = q.
 * Hard loss: cross-entropy of softmax(z) (no temperature) with the label.
 *
 * Row loss = soft_weight · (T² if scale_by_t2) · divergence
 *          + hard_weight · hard.
 * A row whose label equals ignore_index contributes 0 and a zero gradient;
 * without labels no row is ignored (and hard_weight must be 0).
 * Reductions: BATCHMEAN = Σ row losses / number of non-ignored rows (0, with
 * a zero gradient, when every row is ignored); SUM; NONE = the row losses.
 * The gradient is that of the reduced loss (of the sum, for NONE), with
 * respect to z (the T in z/T is differentiated through).
 *
 * Numerics: inputs fp32, bf16 or fp16; every accumulation is fp32 (row
 * totals in fp64 on the CPU). Gradients are exact closed forms.
 */

typedef enum {
    DISTILL_DIVERGENCE_FORWARD_KL = 0,
    DISTILL_DIVERGENCE_REVERSE_KL = 1,
    DISTILL_DIVERGENCE_JSD = 2,
    DISTILL_DIVERGENCE_TVD = 3
} distill_divergence;

typedef enum {
    DISTILL_REDUCTION_BATCHMEAN = 0,
    DISTILL_REDUCTION_SUM = 1,
    DISTILL_REDUCTION_NONE = 2
} distill_reduction;

typedef enum { DISTILL_TAIL_RENORMALIZE = 0, DISTILL_TAIL_BUCKET = 1 } distill_tail;

typedef struct distill_kd_loss_options {
    uint32_t struct_size; /* = sizeof(distill_kd_loss_options), set by init */
    int32_t divergence;   /* distill_divergence; default FORWARD_KL */
    float beta;           /* JSD mixing weight in [0, 1]; default 0.5 */
    float temperature;    /* T > 0 and finite; default 1 */
    int32_t scale_by_t2;  /* nonzero: soft loss × T²; default 1 */
    float soft_weight;    /* ≥ 0; default 1 */
    float hard_weight;    /* ≥ 0; default 0; > 0 needs labels */
    int64_t ignore_index; /* label value of ignored rows; default -100 */
    int32_t reduction;    /* distill_reduction; default BATCHMEAN */
    int32_t tail;         /* distill_tail, top-k teachers only; default RENORMALIZE */
} distill_kd_loss_options;

/* Fills *options with the defaults above. Errors: options == NULL. */
DISTILL_API distill_status distill_kd_loss_options_init(distill_kd_loss_options * options);

/*
 * Loss against a dense teacher, and optionally its gradient.
 *
 *  context          in   where to run (device of every tensor must match it).
 *  options          in   NULL = defaults.
 *  student_logits   in   [N, V], fp32/bf16/fp16, row-major contiguous.
 *  teacher_logits   in   [N, V], fp32/bf16/fp16 (may differ from the
 *                        student's), contiguous. A different V is an error,
 *                        never a silent pad.
 *  labels           in   NULL or [N], int64 or int32, each in [0, V) or equal
 *                        to ignore_index.
 *  loss             out  fp32: a scalar (ndim 0, or shape [1]) for SUM and
 *                        BATCHMEAN; [N] for NONE. Caller-allocated.
 *  grad_student_logits  out  NULL, or [N, V] in the student's dtype,
 *                        contiguous, caller-allocated; overwritten.
 *
 * On the CPU the call returns when the outputs are written; on CUDA it is
 * enqueued on the context's stream without a host synchronisation (label
 * range checks then happen on the device: a row with an invalid label
 * yields a NaN loss and a NaN gradient row instead of an error).
 * Thread safety: any number of concurrent calls, on one context or several.
 * Errors: DISTILL_STATUS_INVALID_ARGUMENT naming the argument, expected and
 * actual value; DISTILL_STATUS_UNSUPPORTED for undefined combinations.
 */
DISTILL_API distill_status distill_kd_loss(const distill_context * context,
                                           const distill_kd_loss_options * options,
                                           const DLTensor * student_logits,
                                           const DLTensor * teacher_logits, const DLTensor * labels,
                                           DLTensor * loss, DLTensor * grad_student_logits);

/*
 * Loss against a top-k teacher (what OpenAI-compatible APIs return).
 *
 *  teacher_topk_ids       in  [N, K], int32 or int64, each in [0, V), no id
 *                             twice in a row. 1 ≤ K ≤ V.
 *  teacher_topk_logprobs  in  [N, K], fp32/bf16/fp16 log-probabilities ≤ 0
 *                             (-inf allowed); Σ exp over a row must not
 *                             exceed 1 + 1e-3.
 *  Other arguments as distill_kd_loss; options->tail chooses the handling
 *  of the mass outside the top-k.
 *
 * On CUDA the ids and log-probabilities are checked on the device, without
 * a host synchronisation: a row with an id out of range, a NaN or +inf
 * log-probability or a mass above 1 + 1e-3 gets a NaN loss and a NaN
 * gradient row; an id repeated within a row is NOT detected there (the CPU
 * refuses it). Above V = 393216 the CUDA kernel computes q_rest as
 * 1 − Σ q_i (its id bitmap no longer fits in shared memory).
 */
DISTILL_API distill_status distill_kd_loss_topk(const distill_context * context,
                                                const distill_kd_loss_options * options,
                                                const DLTensor * student_logits,
                                                const DLTensor * teacher_topk_ids,
                                                const DLTensor * teacher_topk_logprobs,
                                                const DLTensor * labels, DLTensor * loss,
                                                DLTensor * grad_student_logits);

#ifdef __cplusplus
}
#endif

#endif /* DISTILL_DISTILL_H */
