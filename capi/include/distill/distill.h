/*
 * distill.h — the stable C ABI of libdistill.
 *
 * Contents (each section opens with a banner "N. Name"; search for it):
 *   1. Versions & errors     version macros, distill_abi_version, status codes,
 *                            distill_last_error_message
 *   2. Handles               the opaque handle types, declared together
 *   3. Context               distill_context: CPU or CUDA device, threads, stream
 *   4. Loss (kd_loss)        distill_kd_loss, distill_kd_loss_topk, their options
 *   5. Teacher records       distill_teacher_record: one teacher answer;
 *      & wire format         distill_example_*: the model teacher's request format
 *   6. Store                 distill_store: the SQLite teacher-output store
 *   7. Teachers              distill_teacher: callback, HTTP and model teachers,
 *                            request keys, query and query_cached
 *   8. Collect & Batch API   distill_collect; distill_batch_build / _ingest
 *   9. Progress callbacks    distill_progress, for ask_teacher and fit
 *  10. Datasets              distill_dataset: create, load, slice, teacher targets,
 *                            ask_teacher, read_teacher
 *  11. Models & trainer      distill_model (create, load, predict, evaluate),
 *                            distill_trainer (step, fit, save, resume)
 *  12. Tokenizer             distill_tokenizer: byte-level BPE tokenizer.json,
 *                            encode, decode, train, save
 *  13. Token datasets        distill_tokenize_files, distill_text_dataset:
 *                            a corpus as token ids in a mapped file, split
 *                            by document, served in windows
 *  14. Hugging Face folders  distill_hf_folder_export / _import: a transformer
 *                            student's model file <-> a transformers folder
 *  15. Language models       the transformer student through the model and
 *                            trainer calls; distill_lm_logits, token steps,
 *                            distill_lm_evaluate, distill_trainer_fit_text
 * New sections are appended after the last one.
 *
 * Valid C99 and C++. Every function is prefixed `distill_`; every fallible
 * function returns a distill_status (0 = DISTILL_STATUS_OK) and, on failure,
 * leaves its out-parameters untouched and records a message that names the
 * argument, the expected and the actual value, readable on the same thread
 * with distill_last_error_message(). No C++ exception crosses this boundary.
 * Each function says which DISTILL_ABI_VERSION added it ("Since ABI 3."):
 * a program may call it when distill_abi_version() is at least that.
 *
 * Tensors cross as DLPack DLTensor (<dlpack/dlpack.h>). A call reads its
 * input tensors in place and writes its output tensors (caller-allocated)
 * in place, and keeps no pointer to a caller's tensor past the call. What
 * is copied: distill_dataset_create copies the inputs and labels into the
 * dataset, and distill_dataset_set_teacher_logits / _set_teacher_topk copy
 * the targets, so the caller's tensors may be freed when these return.
 * What is borrowed: distill_dataset_get and distill_model_parameter return
 * DLTensor views of the library's own memory (data and shape), valid while
 * the dataset is unchanged and the model lives.
 *
 * Versioned structs. A struct whose first field is `uint32_t struct_size`
 * only ever grows by appended fields (never reordered, never removed);
 * struct_size says which version of it the caller was compiled with.
 *  - Options the caller fills (distill_*_options, distill_batch): the
 *    library reads only the first struct_size bytes; fields past them take
 *    their defaults.
 *  - Results the library fills (distill_store_stats, distill_collect_summary,
 *    distill_batch_build_summary, distill_batch_ingest_summary,
 *    distill_step_metrics, distill_eval_metrics, distill_fit_summary): the
 *    caller sets struct_size (to sizeof) before the call; the library writes
 *    only the first struct_size bytes, never a byte past them, and leaves
 *    struct_size as the caller set it.
 *  - *_init (distill_*_options_init, distill_batch_init) fills the defaults
 *    and sets struct_size to the library's sizeof: it writes the library's
 *    whole struct. Structs the library hands to a callback
 *    (distill_progress, distill_collect_summary) also carry its sizeof.
 * A struct_size is accepted when it is the size of a prefix of the struct
 * that ends at a field (the field's end, or that prefix's sizeof with its
 * tail padding); any other value — 0, a size inside a field, more than the
 * library's sizeof — is DISTILL_STATUS_INVALID_ARGUMENT, whose message names
 * the struct, the accepted sizes and the value given.
 * Changed behaviour gets a new function (`_v2`), never a changed signature;
 * enum values are append-only with explicit numbers.
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
/* 1. Versions & errors                                                      */
/* ------------------------------------------------------------------------ */
#define DISTILL_VERSION_MAJOR 0
#define DISTILL_VERSION_MINOR 1
#define DISTILL_VERSION_PATCH 0
#define DISTILL_VERSION_STRING "0.1.0"
/* Bumped on every backward-compatible addition to this header; a binding
 * compiled against DISTILL_ABI_VERSION = n runs on any library whose
 * distill_abi_version() >= n with the same DISTILL_VERSION_MAJOR. */
#define DISTILL_ABI_VERSION 10

/* The library's version as "MAJOR.MINOR.PATCH"; a static string, never NULL. Since ABI 1. */
DISTILL_API const char * distill_version(void);
/* The library's DISTILL_ABI_VERSION, to compare with the header's. Since ABI 1. */
DISTILL_API uint32_t distill_abi_version(void);

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
    DISTILL_STATUS_CANCELLED = 5,
    /* ABI 7. A file or directory the call was given does not exist. */
    DISTILL_STATUS_NOT_FOUND = 6,
    /* ABI 7. A file exists but cannot be read or written: permission denied,
     * a device I/O error, a directory where a file was expected. */
    DISTILL_STATUS_IO_ERROR = 7,
    /* ABI 7. A file's contents are damaged, truncated, or of another kind
     * (not a distill store, checkpoint, safetensors, IDX or token dataset
     * file). */
    DISTILL_STATUS_CORRUPT_FILE = 8,
    /* ABI 7. No space left on the device or in the quota. Nothing partial is
     * left behind: the store or file is as it was before the call. */
    DISTILL_STATUS_DISK_FULL = 9
    /* Codes are append-only with explicit numbers; a binding maps a code it
     * does not know to its generic error. */
};

/* A static, human-readable name for a status ("INVALID_ARGUMENT"). Since ABI 1. */
DISTILL_API const char * distill_status_name(distill_status status);

/* The message of the last failed call on the calling thread ("" if none).
 * Valid until the next distill_* call on this thread; copy it to keep it. Since ABI 1. */
DISTILL_API const char * distill_last_error_message(void);

/* ------------------------------------------------------------------------ */
/* 2. Handles                                                                */
/* ------------------------------------------------------------------------ */
/* Every object of the library is an opaque handle, created by a
 * distill_<object>_create / _open / _load function and released by its
 * distill_<object>_free (which accepts NULL). Declared here, together, so
 * that any section may name any of them; each is described in its section.
 * Since ABI 1 (distill_context), 2 (record, store, teacher), 4 (model,
 * dataset, trainer) and 9 (text dataset). */
typedef struct distill_context distill_context;               /* 3. Context */
typedef struct distill_teacher_record distill_teacher_record; /* 5. Teacher records */
typedef struct distill_store distill_store;                   /* 6. Store */
typedef struct distill_teacher distill_teacher;               /* 7. Teachers */
typedef struct distill_dataset distill_dataset;               /* 10. Datasets */
typedef struct distill_model distill_model;                   /* 11. Models & trainer */
typedef struct distill_trainer distill_trainer;               /* 11. Models & trainer */
typedef struct distill_text_dataset distill_text_dataset;     /* 13. Token datasets */

/* ------------------------------------------------------------------------ */
/* 3. Context: where and how work runs                                       */
/* ------------------------------------------------------------------------ */
typedef enum { DISTILL_DEVICE_CPU = 0, DISTILL_DEVICE_CUDA = 1 } distill_device_type;

typedef struct distill_context_options {
    uint32_t struct_size; /* = sizeof(distill_context_options), set by init */
    int32_t device_type;  /* distill_device_type; default DISTILL_DEVICE_CPU */
    int32_t device_id;    /* CUDA device ordinal; ignored on the CPU; default 0 */
    int32_t num_threads;  /* CPU threads per call; 0 (default) = all cores */
    void * cuda_stream;   /* cudaStream_t to enqueue on; NULL = the legacy
                             default stream. Not owned. */
} distill_context_options;

/* Fills *options with the defaults above. Errors: options == NULL. Since ABI 1. */
DISTILL_API distill_status distill_context_options_init(distill_context_options * options);

/* Creates a context. options may be NULL (defaults). On a CUDA device the
 * CUDA backend (libdistill_cuda.so, beside libdistill.so) is loaded on
 * first use; without it, or without a usable GPU, this returns
 * DISTILL_STATUS_UNSUPPORTED with the reason. A context is immutable:
 * it may be used from any number of threads at once.
 * Errors: out == NULL, bad options, no CUDA backend or device. Since ABI 1. */
DISTILL_API distill_status distill_context_create(const distill_context_options * options,
                                                  distill_context ** out);

/* Releases a context; NULL is accepted. Not while another thread uses it. Since ABI 1. */
DISTILL_API void distill_context_free(distill_context * context);

/* Number of CUDA devices usable through the CUDA backend, in *out_count;
 * 0 when the backend cannot be loaded or the machine has no GPU (that is
 * not an error). Errors: out_count == NULL. Since ABI 1. */
DISTILL_API distill_status distill_cuda_device_count(int32_t * out_count);

/* ------------------------------------------------------------------------ */
/* 4. Loss (kd_loss): the distillation-loss family                           */
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

/* Fills *options with the defaults above. Errors: options == NULL. Since ABI 1. */
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
 * Since ABI 1.
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
 * gradient row, and so does a row with an id repeated (the CPU refuses each
 * of these with DISTILL_STATUS_INVALID_ARGUMENT). The student's mass outside
 * the top-k is summed over those entries on both devices, at any V.
 * Since ABI 1.
 */
DISTILL_API distill_status distill_kd_loss_topk(const distill_context * context,
                                                const distill_kd_loss_options * options,
                                                const DLTensor * student_logits,
                                                const DLTensor * teacher_topk_ids,
                                                const DLTensor * teacher_topk_logprobs,
                                                const DLTensor * labels, DLTensor * loss,
                                                DLTensor * grad_student_logits);

/* ------------------------------------------------------------------------ */
/* 5. Teacher records & wire format                                          */
/* ------------------------------------------------------------------------ */
/*
 * A distill_teacher_record is one teacher answer, normalised whatever the
 * server's dialect: the generated text; per position the token's text, raw
 * bytes, id (-1 when the server gives none), log-probability and top-k
 * alternatives; embeddings; token usage; provenance; and, for a failed
 * request, an error status and message (a failure is kept as data, so a
 * job never drops it silently).
 *
 * Pointers returned by getters are borrowed: valid until the record is
 * modified or freed. A record is not synchronised: use one from one thread
 * at a time (several threads may read an unmodified record at once).
 */

/* Whether log-probabilities are the model's raw distribution or the one
 * after the sampling transforms (temperature, top-p, penalties): servers
 * differ (vLLM: raw by default; OpenAI: post-sampling). */
typedef enum {
    DISTILL_LOGPROBS_UNKNOWN = 0,
    DISTILL_LOGPROBS_RAW = 1,
    DISTILL_LOGPROBS_POST_SAMPLING = 2
} distill_logprobs_kind;

/* Absent log-probabilities (ABI 6). A log-probability the server did not
 * give (JSON null: with echo, the first prompt token, which nothing
 * predicts) is NaN wherever a record returns one (get_position, get_topk),
 * never 0 (which would read as certainty); the JSONL export writes it as
 * null and Python as None (positions) or NaN (topk_arrays). NaN is
 * accepted by distill_teacher_record_append_position with this meaning.
 *
 * Precision (ABI 6). Top-k log-probabilities are held at fp16 precision
 * (|error| <= 2^-11 |logprob|), the chosen tokens' at fp32: the store keeps
 * them so (fp32 top-k would cost about 1.5x the bytes per token), and
 * every answer a teacher returns (query, query_cached, collection) is
 * rounded the same way before it is returned or stored, so an answer reads
 * the same fresh and from a store. A record built by hand is rounded when
 * stored (get returns the rounded values). */

/* Text fields of a record (UTF-8, NUL-terminated). */
typedef enum {
    DISTILL_RECORD_TEXT = 0,               /* the generated text */
    DISTILL_RECORD_PROVIDER = 1,           /* "openai", "vllm", "callback", ... */
    DISTILL_RECORD_ENDPOINT = 2,           /* URL, or the callback teacher's name */
    DISTILL_RECORD_MODEL = 3,              /* the model the server says answered */
    DISTILL_RECORD_SYSTEM_FINGERPRINT = 4, /* the server's backend configuration id */
    DISTILL_RECORD_REQUEST_ID = 5,         /* the server's id of the call */
    DISTILL_RECORD_ERROR_MESSAGE = 6,      /* why the request failed ("" if it did not) */
    /* The request key the store files the record under: set by
     * distill_teacher_query; set it by hand (64 lowercase hex digits) only
     * to store a record built outside a teacher. */
    DISTILL_RECORD_KEY = 7,
    /* Canonical JSON (sorted keys, no whitespace), set by the teacher;
     * a setter must give valid JSON, which is stored canonicalised. */
    DISTILL_RECORD_TEACHER_JSON = 8,    /* the teacher's identity */
    DISTILL_RECORD_REQUEST_JSON = 9,    /* the request body */
    DISTILL_RECORD_PARAMETERS_JSON = 10, /* the exact teacher-wide parameters */
    /* Why the server stopped, as it said it (ABI 6): "stop", "length" (cut
     * off by max_tokens: a truncated answer), "content_filter",
     * "tool_calls", ... (OpenAI, vLLM and llama.cpp's finish_reason,
     * Ollama's done_reason); "" when it did not say. */
    DISTILL_RECORD_FINISH_REASON = 11
} distill_record_string;

/* Integer fields of a record. */
typedef enum {
    DISTILL_RECORD_PROMPT_TOKENS = 0,
    DISTILL_RECORD_COMPLETION_TOKENS = 1,
    DISTILL_RECORD_CACHED_TOKENS = 2,    /* prompt tokens served from a cache */
    DISTILL_RECORD_REASONING_TOKENS = 3, /* hidden reasoning tokens */
    DISTILL_RECORD_STARTED_AT_MS = 4,    /* Unix epoch milliseconds */
    DISTILL_RECORD_FINISHED_AT_MS = 5,   /* Unix epoch milliseconds */
    DISTILL_RECORD_LATENCY_US = 6,       /* microseconds, monotonic clock */
    DISTILL_RECORD_ATTEMPTS = 7,         /* calls made, retries included */
    DISTILL_RECORD_LOGPROBS_KIND = 8,    /* distill_logprobs_kind */
    DISTILL_RECORD_ERROR_STATUS = 9,     /* 0, or the distill_status of the failure */
    /* Read-only, derived (ABI 6): 1 when the server says another model
     * answered (DISTILL_RECORD_MODEL) than the one asked for (the request's
     * "model", else the parameters', else the teacher's): a server that
     * falls back to its default model for an unknown name. 0 when either is
     * unknown, equal, or the answer names a version of the model asked for
     * ("gpt-4o" answered by "gpt-4o-2024-08-06": "-" and digits; "llama3"
     * by "llama3:latest": a ":" tag). */
    DISTILL_RECORD_OTHER_MODEL = 10
} distill_record_int;

/* A new, empty record in *out (free with distill_teacher_record_free).
 * Errors: out == NULL. Thread safety: any thread. Since ABI 2. */
DISTILL_API distill_status distill_teacher_record_create(distill_teacher_record ** out);

/* Releases a record; NULL is accepted. Do not free the record a callback
 * teacher is given: the teacher owns it. Since ABI 2. */
DISTILL_API void distill_teacher_record_free(distill_teacher_record * record);

/* Sets a text field (copied). value: NUL-terminated UTF-8, not NULL.
 * Errors: record or value NULL, an unknown field, a KEY that is not 64
 * lowercase hex digits, a *_JSON field that is not valid JSON. Since ABI 2. */
DISTILL_API distill_status distill_teacher_record_set_string(distill_teacher_record * record,
                                                             int32_t field, const char * value);

/* *out = the text field, borrowed (never NULL; "" when unset).
 * Errors: record or out NULL, an unknown field. Since ABI 2. */
DISTILL_API distill_status distill_teacher_record_get_string(const distill_teacher_record * record,
                                                             int32_t field, const char ** out);

/* Sets an integer field. Errors: record NULL, an unknown field, a negative
 * count or time, a LOGPROBS_KIND outside distill_logprobs_kind, a derived
 * field (OTHER_MODEL). Since ABI 2. */
DISTILL_API distill_status distill_teacher_record_set_int(distill_teacher_record * record,
                                                          int32_t field, int64_t value);

/* *out = the integer field. Errors: record or out NULL, an unknown field. Since ABI 2. */
DISTILL_API distill_status distill_teacher_record_get_int(const distill_teacher_record * record,
                                                          int32_t field, int64_t * out);

/*
 * Appends one token position.
 *  token          in  the token's text, NUL-terminated UTF-8; not NULL.
 *  token_bytes    in  its raw bytes (n_bytes of them); NULL with n_bytes 0
 *                     means "the bytes of token".
 *  token_id       in  vocabulary id, or -1 when unknown.
 *  logprob        in  its log-probability (≤ 0 or -inf; NaN: absent).
 *  top_k          in  number of alternatives, ≥ 0.
 *  topk_ids       in  [top_k] ids (-1 = unknown), or NULL: all unknown.
 *  topk_tokens    in  [top_k] NUL-terminated texts, or NULL: all "".
 *  topk_logprobs  in  [top_k] log-probabilities (≤ 0, -inf or NaN); not
 *                     NULL when top_k > 0. The store keeps these as fp16.
 * Errors: record or token NULL, token_bytes NULL with n_bytes > 0,
 * top_k < 0, topk_logprobs NULL with top_k > 0, a positive
 * log-probability, an id < -1.
 * Since ABI 2.
 */
DISTILL_API distill_status distill_teacher_record_append_position(
    distill_teacher_record * record, const char * token, const uint8_t * token_bytes,
    size_t n_bytes, int32_t token_id, float logprob, int32_t top_k, const int32_t * topk_ids,
    const char * const * topk_tokens, const float * topk_logprobs);

/* *out = the number of positions. Errors: record or out NULL. Since ABI 2. */
DISTILL_API distill_status
distill_teacher_record_position_count(const distill_teacher_record * record, int64_t * out);

/* Reads position `index` (0 ≤ index < count). Every out may be NULL when
 * not wanted; token and token_bytes are borrowed. *out_top_k receives the
 * number of alternatives (size the buffers of ..._get_topk with it).
 * Errors: record NULL, index out of range. Since ABI 2. */
DISTILL_API distill_status distill_teacher_record_get_position(
    const distill_teacher_record * record, int64_t index, const char ** out_token,
    const uint8_t ** out_token_bytes, size_t * out_n_bytes, int32_t * out_token_id,
    float * out_logprob, int32_t * out_top_k);

/* Copies position `index`'s top-k alternatives into caller buffers of
 * `capacity` entries each: ids, logprobs (fp32) and tokens (borrowed
 * pointers); each of the three may be NULL when not wanted. *out_count =
 * the number copied, min(top_k, capacity).
 * Errors: record or out_count NULL, index out of range, capacity < 0. Since ABI 2. */
DISTILL_API distill_status distill_teacher_record_get_topk(const distill_teacher_record * record,
                                                           int64_t index, int32_t capacity,
                                                           int32_t * ids, float * logprobs,
                                                           const char ** tokens,
                                                           int32_t * out_count);

/* Appends one embedding vector of `dim` floats (copied; dim ≥ 1).
 * Errors: record or values NULL, dim < 1, a non-finite value. Since ABI 2. */
DISTILL_API distill_status distill_teacher_record_append_embedding(distill_teacher_record * record,
                                                                   const float * values,
                                                                   int64_t dim);

/* *out = the number of embedding vectors. Errors: record or out NULL. Since ABI 2. */
DISTILL_API distill_status
distill_teacher_record_embedding_count(const distill_teacher_record * record, int64_t * out);

/* *out_values = embedding `index` (borrowed), *out_dim = its length.
 * Errors: any argument NULL, index out of range. Since ABI 2. */
DISTILL_API distill_status
distill_teacher_record_get_embedding(const distill_teacher_record * record, int64_t index,
                                     const float ** out_values, int64_t * out_dim);

/* ---- Example wire format ----------------------------------------------- */
/*
 * What a teacher written outside the library (a callback, a service in
 * another language) needs to answer distill_dataset_ask_teacher exactly as
 * distill_teacher_create_model does, without writing the format again.
 *
 * The request of one example of D features:
 *   {"input": {"dtype": "uint8" | "float32", "shape": [D],
 *              "divisor": d, "data": base64 of the little-endian values}}
 * uint8 (value = byte / d, d = 255, "divisor" only then) when every
 * feature is exactly a byte over 255 (images), float32 otherwise; both
 * lossless.
 *
 * The answer to it, from class logits [C]: one position whose top-k
 * alternatives are the classes (id = class index, token = its decimal
 * text) with log_softmax(logits / temperature) computed in double, most
 * likely first, ties by class index; the position's token, and the
 * record's text (DISTILL_RECORD_TEXT), are the most likely class; the
 * record's DISTILL_RECORD_LOGPROBS_KIND is RAW.
 *
 * Thread safety: all three are pure functions of their arguments (the
 * record: one thread at a time). */

/* Writes the request of features [count] (count ≥ 1) as NUL-terminated
 * JSON into out, which holds `capacity` chars; *out_length = its length
 * without the NUL. With out == NULL only *out_length is set (capacity is
 * then ignored): call once to size the buffer.
 * Errors: features or out_length NULL, count < 1, capacity ≤ the length
 * (nothing is written then). Since ABI 7. */
DISTILL_API distill_status distill_example_request_json(const float * features, int64_t count,
                                                        char * out, size_t capacity,
                                                        size_t * out_length);

/* Decodes the features of a request into out [capacity]; *out_count = D.
 * expected_features: the D the request must have, or -1 for any D ≥ 1.
 * With out == NULL only *out_count is set (capacity is then ignored): call
 * once to size the buffer.
 * Errors: request_json or out_count NULL; invalid JSON; a request without
 * an "input" object, with an unknown dtype, a shape other than [D] (or
 * [expected_features]), a missing or zero divisor, data that is not base64
 * of D values; expected_features neither -1 nor ≥ 1; capacity < D (nothing
 * is written then). Each message names the field, the expected and the
 * actual value. Since ABI 7. */
DISTILL_API distill_status distill_example_request_features(const char * request_json,
                                                            int64_t expected_features, float * out,
                                                            int64_t capacity, int64_t * out_count);

/* Sets the record's answer to the class distribution of logits [classes]
 * (the format above) with the `top_k` most likely classes (0, or ≥
 * classes: all): replaces its positions and text, sets its LOGPROBS_KIND
 * to RAW and leaves every other field as it was. The top-k log-
 * probabilities are rounded to fp16 when the record is stored or returned
 * by a teacher, as every answer's are.
 * Errors: record or logits NULL; classes < 1 or ≥ 2^31; a logit NaN or
 * +inf (-inf is a class of probability 0, but not every class); temperature
 * not finite and > 0; top_k < 0. The record is unchanged on failure. Since ABI 7. */
DISTILL_API distill_status distill_teacher_record_set_classification(
    distill_teacher_record * record, const float * logits, int64_t classes, float temperature,
    int32_t top_k);

/* ------------------------------------------------------------------------ */
/* 6. Store: the teacher-output store                                        */
/* ------------------------------------------------------------------------ */
/*
 * One SQLite file in WAL mode, one row per request key. Positions and
 * embeddings are packed (top-k: int32 ids + fp16 log-probabilities) and
 * zstd-compressed; provenance is in plain columns. Writes are transactions:
 * a process killed at any point (even kill -9) leaves only whole rows.
 * Any number of processes and threads may open the same file: readers see
 * committed rows while a writer writes.
 *
 * Thread safety: a distill_store may be used from several threads at once
 * (calls are serialised on its connection); for parallel reads open one
 * store per thread.
 */

typedef struct distill_store_options {
    uint32_t struct_size;    /* = sizeof(distill_store_options), set by init */
    int32_t read_only;       /* nonzero: never write, never create; default 0 */
    int32_t busy_timeout_ms; /* wait for another writer's lock; ≥ 0; default 5000 */
} distill_store_options;

/* Fills *options with the defaults above. Errors: options == NULL. Since ABI 2. */
DISTILL_API distill_status distill_store_options_init(distill_store_options * options);

/*
 * Opens the store at `path` (UTF-8), creating it when missing (unless
 * read-only), and brings an older schema up to date. options may be NULL.
 * Errors (each naming the path and the reason): NOT_FOUND for a missing
 * file opened read-only or a missing directory; IO_ERROR for a directory
 * or no permission (also a file that may not be written when read_only is
 * 0); CORRUPT_FILE for a file that is not a distill store (another SQLite
 * database, a text file, an empty file read-only, a truncated or corrupt
 * file); UNSUPPORTED for a store written by a newer libdistill. Later calls
 * on the store: CORRUPT_FILE for damaged rows, DISK_FULL when the disk fills.
 * Since ABI 2.
 */
DISTILL_API distill_status distill_store_open(const char * path,
                                              const distill_store_options * options,
                                              distill_store ** out);

/* Closes a store; NULL is accepted. Not while another thread uses it. Since ABI 2. */
DISTILL_API void distill_store_free(distill_store * store);

/* Stores `record` under its DISTILL_RECORD_KEY in one transaction,
 * replacing a row with the same key (a successful retry replaces a stored
 * failure). The record is copied. Errors: an argument NULL, a record
 * without a valid key, a read-only store, SQLite errors (INTERNAL). Since ABI 2. */
DISTILL_API distill_status distill_store_put(distill_store * store,
                                             const distill_teacher_record * record);

/* Looks `key` (64 lowercase hex digits) up: *out = a new record to free
 * with distill_teacher_record_free, or NULL when the key is not stored
 * (not an error). Errors: an argument NULL, a malformed key, a damaged
 * row (INTERNAL). Since ABI 2. */
DISTILL_API distill_status distill_store_get(distill_store * store, const char * key,
                                             distill_teacher_record ** out);

/* Counts, filled up to out->struct_size (set it to sizeof before the call). */
typedef struct distill_store_stats {
    uint32_t struct_size; /* set by the caller: sizeof(distill_store_stats) */
    int64_t records;      /* rows, failures included */
    int64_t failures;     /* rows with an error status */
    int64_t positions;    /* token positions in all rows */
    int64_t blob_bytes;   /* compressed position and embedding bytes */
    /* Successful rows by DISTILL_RECORD_FINISH_REASON (ABI 6): */
    int64_t finished_stop;           /* "stop" (and Ollama's): a natural end */
    int64_t finished_length;         /* "length": truncated by max_tokens */
    int64_t finished_content_filter; /* "content_filter" */
    int64_t finished_tool_calls;     /* "tool_calls" or "function_call" */
    int64_t finished_other;          /* any other reason ("abort", ...) */
    int64_t finish_not_given;        /* "": embeddings, callbacks, older stores */
    /* Successful rows with DISTILL_RECORD_OTHER_MODEL = 1 (ABI 6). */
    int64_t other_model;
} distill_store_stats;

/* Fills *out up to its struct_size. Errors: an argument NULL, a struct_size
 * that is not a field boundary (see "Versioned structs" at the top). Since ABI 2. */
DISTILL_API distill_status distill_store_get_stats(distill_store * store,
                                                   distill_store_stats * out);

/* Writes every row, in insertion order, to `path` as JSON Lines: one
 * object per record with "key", "text", "logprobs", "positions" (token,
 * bytes as integers, id, logprob, top_logprobs [{id, token, logprob}]),
 * "embeddings", "usage", "provenance" (with "teacher", "request" and
 * "parameters" as JSON values) and "error" (null or {status, message});
 * since ABI 6 also "finish_reason" (null when not given) and, in
 * "provenance", "requested_model" and "model_differs" (OTHER_MODEL).
 * Absent log-probabilities are null.
 * One consistent snapshot even while others write. The file is replaced
 * atomically (the old file or the whole new one, never a mix).
 * Errors: an argument NULL; NOT_FOUND (a missing directory), IO_ERROR (an
 * unwritable path), DISK_FULL. Since ABI 2. */
DISTILL_API distill_status distill_store_export_jsonl(distill_store * store, const char * path);

/* ------------------------------------------------------------------------ */
/* 7. Teachers                                                               */
/* ------------------------------------------------------------------------ */
/*
 * A distill_teacher answers requests (JSON: chat messages or a prompt and
 * the request's own parameters). Every request has a key: the hex SHA-256
 * of the canonical JSON (sorted keys, no whitespace; 1 and 1.0 differ)
 * of {"parameters": P, "request": R, "teacher": T}, where T is the
 * teacher's identity and P its teacher-wide parameters — so the same
 * question, however its JSON is spelled, is asked once per store.
 */

/*
 * A callback teacher's function. Called on the thread that calls
 * distill_teacher_query / _query_cached, once per request that is asked,
 * never concurrently for one query call (the caller decides concurrency).
 *  user_data     the pointer given at creation.
 *  request_json  in  the request as canonical JSON, valid during the call.
 *  record        in/out  an empty record to fill with the setters; owned
 *                by the teacher (do not free or keep it).
 * Returns DISTILL_STATUS_OK when answered; DISTILL_STATUS_CANCELLED to stop
 * the job (the query returns CANCELLED and nothing is stored); any other
 * status marks this request failed (the record keeps that status and the
 * ERROR_MESSAGE the callback set, and is stored as a failure).
 */
typedef distill_status (*distill_teacher_callback)(void * user_data, const char * request_json,
                                                   distill_teacher_record * record);

typedef struct distill_callback_teacher_options {
    uint32_t struct_size;         /* = sizeof(...), set by init */
    const char * name;            /* identity; default "callback" */
    const char * model;           /* identity; default "" */
    const char * parameters_json; /* teacher-wide parameters (JSON), part of every
                                     key; NULL (default) = null */
} distill_callback_teacher_options;

/* Fills *options with the defaults above. Errors: options == NULL. Since ABI 2. */
DISTILL_API distill_status
distill_callback_teacher_options_init(distill_callback_teacher_options * options);

/* A teacher that calls fn(user_data, ...) for each request. user_data is
 * not owned and must outlive the teacher. options may be NULL; its strings
 * are copied. Errors: fn or out NULL, invalid parameters_json. Since ABI 2. */
DISTILL_API distill_status distill_teacher_create_callback(
    distill_teacher_callback fn, void * user_data, const distill_callback_teacher_options * options,
    distill_teacher ** out);

/* Releases a teacher; NULL is accepted. Since ABI 2. */
DISTILL_API void distill_teacher_free(distill_teacher * teacher);

/* Writes the request's key (64 hex digits and a NUL) to out_key, which
 * holds `capacity` ≥ 65 chars. Errors: an argument NULL, invalid JSON,
 * capacity < 65. Since ABI 2. */
DISTILL_API distill_status distill_teacher_request_key(const distill_teacher * teacher,
                                                       const char * request_json, char * out_key,
                                                       size_t capacity);

/*
 * Asks the teacher once. *out = a new record (free it), whose key,
 * teacher/request/parameters JSON, timestamps, latency and attempts are
 * filled. A failed request is still DISTILL_STATUS_OK, with the failure
 * in the record's ERROR_STATUS and ERROR_MESSAGE.
 * Errors: an argument NULL, invalid request JSON; DISTILL_STATUS_CANCELLED
 * when the teacher asked to stop.
 * Thread safety: a callback teacher may be queried from several threads
 * at once if its callback allows it.
 * Since ABI 2.
 */
DISTILL_API distill_status distill_teacher_query(distill_teacher * teacher,
                                                 const char * request_json,
                                                 distill_teacher_record ** out);

/*
 * As distill_teacher_query, through a store: returns the stored record
 * when the request's key holds a success, without asking; otherwise asks
 * (a stored failure is asked again), stores the answer — failure or not —
 * and returns it. Errors: those of _query and of distill_store_put.
 * Since ABI 2.
 */
DISTILL_API distill_status distill_teacher_query_cached(distill_teacher * teacher,
                                                        distill_store * store,
                                                        const char * request_json,
                                                        distill_teacher_record ** out);

/* ---- HTTP teachers ----------------------------------------------------- */
/*
 * A teacher behind an OpenAI-compatible HTTP server. The request JSON says
 * what is asked: "messages" → POST {base_url}/chat/completions, "prompt" →
 * /completions, "input" → /embeddings (Ollama: /api/chat, /api/generate,
 * /api/embed). The body sent is the teacher's parameters_json overridden by
 * the request's own fields, plus "model"; the request's "id" is not sent.
 * Ask for log-probabilities in the request or the parameters
 * ("logprobs": true, "top_logprobs": k for chat; "logprobs": k legacy).
 *
 * The answer is normalised into the record: text; per position the token,
 * its bytes, its id when the server gives one, its log-probability and the
 * top-k; usage (cached and reasoning tokens included); model,
 * system_fingerprint, the request id (x-request-id header, else the body's
 * "id"); attempts. LOGPROBS_KIND is RAW for vLLM, POST_SAMPLING for OpenAI,
 * UNKNOWN otherwise.
 *
 * Retries: connection errors, timeouts, HTTP 408, 409, 429 (except
 * insufficient_quota) and 5xx, at most max_retries times and within
 * max_retry_seconds overall, waiting retry-after-ms, else retry-after
 * (seconds or an HTTP date), else an exponential backoff with jitter;
 * an "x-should-retry: true|false" header overrides the status. A final
 * failure is still DISTILL_STATUS_OK from distill_teacher_query: the record
 * holds ERROR_STATUS (INVALID_ARGUMENT for a 4xx, INTERNAL for a 5xx or a
 * transport failure) and ERROR_MESSAGE (status, the server's message and
 * code, why it was not retried).
 *
 * Capability probe: the first chat request asking for top_logprobs > 5
 * makes the teacher ask the server (one-token requests, top_logprobs 20,
 * then 10, then 5, stopping at the first accepted; a 400 means "not this
 * value") and remember the largest accepted. Chat requests asking for more
 * are sent with that many, and the record's PARAMETERS_JSON says so:
 * the teacher's parameters plus {"top_logprobs_clamped": {"asked": k,
 * "sent": m}}. The request key stays that of the request as asked. A probe
 * that gets no clear answer (no connection, 401, 5xx) clamps nothing and
 * is tried again on the next such request. Up to 5 is never probed.
 *
 * The API key is read once, at creation, and sent only as the
 * Authorization header: it never appears in errors, records, the store or
 * the teacher's identity (a server that echoes it is redacted).
 * Thread safety: one teacher may be queried from several threads at once.
 */
typedef enum {
    DISTILL_HTTP_DIALECT_AUTO = 0,      /* OpenAI wire format; answers read as the server
                                           that GET <base_url>/models (asked once) shows:
                                           llama.cpp, vLLM, OpenAI, else provider
                                           "openai-compatible" */
    DISTILL_HTTP_DIALECT_OPENAI = 1,    /* api.openai.com and compatible */
    DISTILL_HTTP_DIALECT_VLLM = 2,      /* vLLM's OpenAI server (raw logprobs) */
    DISTILL_HTTP_DIALECT_LLAMA_CPP = 3, /* llama.cpp server (token ids in logprobs) */
    DISTILL_HTTP_DIALECT_OLLAMA = 4     /* Ollama's native /api endpoints */
} distill_http_dialect;

typedef struct distill_http_teacher_options {
    uint32_t struct_size;         /* = sizeof(...), set by init */
    const char * base_url;        /* required: "https://api.openai.com/v1",
                                     "http://host:8000/v1"; Ollama: "http://host:11434" */
    const char * model;           /* sent as "model" unless the request has one; default "" */
    int32_t dialect;              /* distill_http_dialect; default AUTO */
    const char * api_key_env;     /* name of the environment variable holding the
                                     key; NULL (default) = none */
    const char * api_key_file;    /* path of a file holding the key (whitespace
                                     trimmed); NULL (default) = none. Not both. */
    const char * parameters_json; /* teacher-wide parameters (JSON object), part
                                     of every key; NULL (default) = null */
    int32_t timeout_ms;           /* one attempt, whole exchange; > 0; default 600000 */
    int32_t connect_timeout_ms;   /* > 0; default 10000 */
    int32_t low_speed_seconds;    /* abort an attempt receiving < 1 byte/s for this
                                     long; 0 = off; default 60 */
    int32_t max_retries;          /* retries after the first attempt; ≥ 0; default 2 */
    double max_retry_seconds;     /* no retry starts (and no wait runs) past this many
                                     seconds since the query began; ≥ 0; default 60 */
    int32_t retry_base_ms;        /* first backoff, doubled per retry; ≥ 0; default 500 */
    int32_t retry_max_delay_ms;   /* cap of one backoff; ≥ 0; default 8000 */
    int32_t verify_tls;           /* nonzero (default): verify the server's certificate;
                                     0 only for a test server you trust */
} distill_http_teacher_options;

/* Fills *options with the defaults above. Errors: options == NULL. Since ABI 3. */
DISTILL_API distill_status
distill_http_teacher_options_init(distill_http_teacher_options * options);

/*
 * An HTTP teacher (free with distill_teacher_free; query with
 * distill_teacher_query / _query_cached). Strings are copied. Its identity
 * (part of every request key) is {"kind": "http", "base_url", "model"}:
 * the dialect only says how answers are read, so switching it asks nothing
 * again. (Keys of distill 0.1.0 held "dialect" too: an answer stored under
 * such a key is still found, and filed again under its new key, by
 * _query_cached and distill_collect.) Errors (INVALID_ARGUMENT): options or out NULL, no base_url
 * or not http(s)://, an unknown dialect, a negative or zero limit,
 * invalid parameters_json, both api_key_env and api_key_file, an unset or
 * empty variable (named, its value never shown), an unreadable or empty
 * key file. Nothing is sent at creation.
 * Since ABI 3.
 */
DISTILL_API distill_status distill_teacher_create_http(const distill_http_teacher_options * options,
                                                       distill_teacher ** out);

/* ---- Model teachers ---------------------------------------------------- */
/*
 * A teacher answered by a built-in model, in process (free with
 * distill_teacher_free). Its requests are the examples of
 * distill_dataset_ask_teacher: {"input": {"dtype": "float32" | "uint8",
 * "shape": [D], "divisor": d (uint8 only: value = byte / d), "data": base64
 * of the little-endian values}}. Its answer is one position whose top-k
 * alternatives are the classes (id = class index, token = its decimal
 * text) with their log-probabilities at `temperature`, most likely first,
 * and the "logprobs" kind RAW; an "embedding" model answers an embedding
 * instead. Its identity holds the SHA-256 of the config and weights, so a
 * retrained model is a different teacher to the store.
 */
typedef struct distill_model_teacher_options {
    uint32_t struct_size; /* = sizeof(...), set by init */
    const char * name;    /* identity; default "model" */
    int32_t top_k;        /* classes answered, ≥ 1; 0 (default) = all */
    float temperature;    /* > 0; default 1 */
} distill_model_teacher_options;

/* Fills *options with the defaults above. Errors: options == NULL. Since ABI 4. */
DISTILL_API distill_status
distill_model_teacher_options_init(distill_model_teacher_options * options);

/* Errors: context, model or out NULL; top_k < 0; temperature not > 0; on
 * a CUDA context, device failures. The teacher keeps a copy of the model
 * and the context's settings: its thread count, or, for a CUDA context,
 * that GPU, which holds the copy's weights while the teacher lives and runs
 * its forward passes. Since ABI 4. */
DISTILL_API distill_status distill_teacher_create_model(const distill_context * context,
                                                        distill_model * model,
                                                        const distill_model_teacher_options * options,
                                                        distill_teacher ** out);

/* ------------------------------------------------------------------------ */
/* 8. Collect & Batch API                                                    */
/* ------------------------------------------------------------------------ */
/*
 * distill_collect asks a teacher every request of a set through a store,
 * each at most once: requests stored as successes are skipped (a stored
 * failure is asked again), a key repeated in the set is asked once, and
 * every answer — failure or not — is stored, in groups of answers (one
 * transaction a group, committed within ~100 ms of its first answer). A
 * job killed at any moment (even SIGKILL) loses only the answers in flight
 * or of the last ~100 ms; run it again and it asks only what is missing.
 *
 * HTTP teachers: up to `concurrency` requests in flight at once, all on the
 * calling thread (libcurl's multi interface: no thread per request,
 * connections reused), each with the teacher's retries (a retry waiting
 * for its delay does not hold a slot), every start within the request and
 * token budgets and what the server's x-ratelimit-remaining-* /
 * x-ratelimit-reset-* headers say is left. Other teachers (callbacks) are
 * asked one request at a time on the calling thread; concurrency and the
 * rate limits do not apply to them.
 */

/* What a job has done so far (progress) or in all (the result). Counts of
 * tokens and the cost are of the answers asked by this job. */
typedef struct distill_collect_summary {
    uint32_t struct_size;        /* distill_collect: set by the caller to sizeof(...);
                                    progress: the library's size */
    int64_t requests;            /* in the set, repeats included */
    int64_t answered_from_store; /* stored successes, and repeats of a key in the set */
    int64_t asked;               /* finished by asking the teacher (= succeeded + failed) */
    int64_t succeeded;
    int64_t failed;              /* asked, stored as failures (retried by the next job) */
    int64_t prompt_tokens;       /* cached ones included, as servers count them */
    int64_t cached_tokens;
    int64_t completion_tokens;   /* reasoning tokens included */
    double cost_usd;             /* from the options' prices */
    double elapsed_seconds;
} distill_collect_summary;

/* Progress of a job, called on the thread that called distill_collect
 * after answers are stored (at most every 100 ms or so, and once at the
 * start and at the end). `summary` is valid during the call only. Return
 * DISTILL_STATUS_OK to go on, DISTILL_STATUS_CANCELLED to stop: no new
 * request starts, the ones in flight finish and are stored, and
 * distill_collect returns CANCELLED. */
typedef distill_status (*distill_collect_progress)(void * user_data,
                                                   const distill_collect_summary * summary);

typedef struct distill_collect_options {
    uint32_t struct_size;        /* = sizeof(...), set by init */
    int32_t concurrency;         /* HTTP requests in flight, >= 1; default 8 */
    double requests_per_minute;  /* our own budget, spread evenly (a burst of at most
                                    one second's worth); 0 (default) = none */
    double tokens_per_minute;    /* budget of prompt + completion tokens, estimated
                                    before a request (JSON bytes / 4 + max_tokens) and
                                    corrected by its usage; 0 (default) = none */
    double price_prompt;         /* USD per million prompt tokens; default 0 */
    double price_cached;         /* USD per million cached prompt tokens (billed
                                    instead of price_prompt); default 0 */
    double price_completion;     /* USD per million completion tokens; default 0 */
    distill_collect_progress progress; /* NULL (default) = no progress */
    void * progress_user_data;   /* passed to progress, not owned */
    int32_t stop_on_fatal_error; /* nonzero (default): stop at the first failure that
                                    every request would meet — HTTP 401/403/404, codes
                                    invalid_api_key, insufficient_quota,
                                    model_not_found; a callback's INVALID_ARGUMENT.
                                    A request the server rejects alone (a 400 such as
                                    context_length_exceeded, 413, 422) is stored as a
                                    failure and the job goes on either way */
} distill_collect_options;

/* Fills *options with the defaults above. Errors: options == NULL. Since ABI 4. */
DISTILL_API distill_status distill_collect_options_init(distill_collect_options * options);

/*
 * Runs a collection job. requests_json: `count` JSON request strings (as
 * for distill_teacher_query), read during the call only; they are all
 * parsed (and, for an HTTP teacher, checked to be chat, completion or
 * embedding requests) before anything is sent. options may be NULL
 * (defaults). summary_out (may be NULL) receives the job's summary, its
 * struct_size set by the caller.
 * Errors: NULL teacher, store or requests_json with count > 0, a bad
 * request (INVALID_ARGUMENT naming requests_json[i]), concurrency < 1,
 * negative rates or prices; CANCELLED when progress (or a callback
 * teacher) asked to stop; with stop_on_fatal_error, the fatal failure's
 * status, the message naming the request's index, its key and the
 * server's reason; store errors. In every case the answers received are
 * stored, and summary_out is untouched on failure (progress saw the last
 * counts).
 * Thread safety: a job uses its teacher and store on the calling thread;
 * several jobs may run at once on different threads.
 * Since ABI 4.
 */
DISTILL_API distill_status distill_collect(distill_teacher * teacher, distill_store * store,
                                           const char * const * requests_json, size_t count,
                                           const distill_collect_options * options,
                                           distill_collect_summary * summary_out);

/* ---- OpenAI Batch API files -------------------------------------------- */
/*
 * The half-price route for large jobs: build a batch input file from a
 * request set, upload it to OpenAI's Batch API yourself, and read the batch
 * output file back into the store. Each input line is
 *   {"custom_id": KEY, "method": "POST", "url": URL, "body": BODY}
 * where KEY is the request key (distill_teacher_request_key) and BODY the
 * body the HTTP teacher would send (its parameters, the request, the
 * model). Output lines are matched to requests by custom_id (their order is
 * not the input's) and stored as distill_collect would have stored the
 * same answers: the same keys, the same normalised records (provider
 * "openai-batch"), failures (a line's "error", a non-2xx status, a body
 * that is not a completion) as failure rows. So a job may mix the two
 * routes: distill_collect skips what a batch stored, and a batch file
 * leaves out what is stored.
 * The teacher must be an HTTP teacher (distill_teacher_create_http) of the
 * OpenAI-compatible dialects; nothing is sent to its server.
 */

typedef struct distill_batch_build_summary {
    uint32_t struct_size;   /* set by the caller: sizeof(distill_batch_build_summary) */
    int64_t requests;       /* in the set, repeats included */
    int64_t written;        /* lines written */
    int64_t already_stored; /* left out: stored as successes */
    int64_t repeated;       /* left out: a key seen earlier in the set */
} distill_batch_build_summary;

/*
 * Writes the batch input file for `count` JSON requests (as for
 * distill_collect), leaving out those `store` holds as successes (store may
 * be NULL: none left out) and repeats; `path` is replaced atomically.
 * url: the endpoint of every line, e.g. "/v1/chat/completions"; NULL: the
 * one of the requests' kind, which must then be the same for all.
 * summary_out may be NULL.
 * Errors: teacher, path or requests_json (count > 0) NULL; not an HTTP
 * teacher, or an Ollama one; a bad request (INVALID_ARGUMENT naming
 * requests_json[i]); mixed kinds without url; more than 50,000 lines
 * (OpenAI's limit for one file); an unwritable path; store errors.
 * Since ABI 4.
 */
DISTILL_API distill_status distill_batch_build(distill_teacher * teacher, distill_store * store,
                                               const char * const * requests_json, size_t count,
                                               const char * url, const char * path,
                                               distill_batch_build_summary * summary_out);

typedef struct distill_batch_ingest_summary {
    uint32_t struct_size;   /* set by the caller: sizeof(distill_batch_ingest_summary) */
    int64_t lines;          /* non-blank lines read */
    int64_t succeeded;      /* answers stored */
    int64_t failed;         /* stored as failure rows */
    int64_t already_stored; /* failures not stored: their key holds a success */
    int64_t unknown;        /* custom_id of no request of the set; nothing stored */
    int64_t malformed;      /* not an output line (not JSON, no custom_id, neither
                               "response" nor "error"); nothing stored */
} distill_batch_ingest_summary;

/* Told of each unknown or malformed line of a batch output file, on the
 * calling thread: its 1-based number and why (valid during the call). */
typedef void (*distill_batch_problem)(void * user_data, int64_t line, const char * why);

/*
 * Reads the batch output file at `path` into `store`, matching each line's
 * custom_id to the key of one of the `count` requests (the set the input
 * file was built from, with the same teacher). A success replaces what its
 * key held; a failure never replaces a stored success. Lines are committed
 * in groups, one transaction each. Unknown and malformed lines are
 * counted, told to `problem` (may be NULL) and skipped; they are not an
 * error. summary_out may be NULL.
 * Errors: teacher, store, path or requests_json (count > 0) NULL; not an
 * HTTP teacher, or an Ollama one; a bad request; an unreadable file; store
 * errors (what was committed before stays).
 * Since ABI 4.
 */
DISTILL_API distill_status distill_batch_ingest(distill_teacher * teacher, distill_store * store,
                                                const char * const * requests_json, size_t count,
                                                const char * path, distill_batch_problem problem,
                                                void * problem_user_data,
                                                distill_batch_ingest_summary * summary_out);

/* ------------------------------------------------------------------------ */
/* 9. Progress callbacks                                                     */
/* ------------------------------------------------------------------------ */
/* Progress of a long call (distill_dataset_ask_teacher, distill_trainer_fit;
 * distill_collect has its own, distill_collect_progress, in section 8):
 * called on the calling thread; returning DISTILL_STATUS_CANCELLED stops
 * the call, which then returns CANCELLED with everything done so far kept
 * (answers stored, checkpoints written). struct_size is the library's
 * sizeof: a field lies past it when the library is older than the header
 * the callback was compiled with (only then). */
typedef struct distill_progress {
    uint32_t struct_size;     /* sizeof(distill_progress) of the library */
    int32_t event;            /* distill_progress_event */
    int64_t done;             /* units done in this phase (examples or steps) */
    int64_t total;            /* units in this phase */
    int64_t epoch;            /* 1-based epoch (training), 0 otherwise */
    int64_t epochs;           /* epochs planned (training), 0 otherwise */
    double loss;              /* mean training loss of the epoch so far; NaN if none */
    double val_accuracy;      /* EPOCH_END with a validation set; NaN otherwise */
    double val_agreement;     /* EPOCH_END, validation agreement with the teacher; NaN if none */
    double elapsed_seconds;   /* since the call began */
    int64_t asked;            /* ASK: examples the teacher answered so far in this call */
    int64_t from_store;       /* ASK: examples found in the store */
} distill_progress;

typedef enum {
    DISTILL_PROGRESS_ASK = 0,      /* distill_dataset_ask_teacher, after each batch */
    DISTILL_PROGRESS_STEP = 1,     /* training, every few steps */
    DISTILL_PROGRESS_EPOCH_END = 2 /* training, after each epoch's validation */
} distill_progress_event;

typedef distill_status (*distill_progress_callback)(void * user_data,
                                                    const distill_progress * progress);

/* ------------------------------------------------------------------------ */
/* 10. Datasets                                                              */
/* ------------------------------------------------------------------------ */
/*
 * A dataset: N examples of D fp32 features, optional int64 labels, and
 * optional teacher targets — dense teacher logits [N, C] or top-k ids
 * [N, K] (int32) with log-probabilities [N, K] (fp32). All held in the
 * library's memory (copied in).
 */

/* A dataset from inputs fp32 [N, D] and labels int64 [N] (or NULL), both
 * contiguous CPU tensors, copied. Errors: a NULL argument other than
 * labels, a wrong dtype, shape or device (named). Since ABI 4. */
DISTILL_API distill_status distill_dataset_create(const DLTensor * inputs, const DLTensor * labels,
                                                  distill_dataset ** out);

/* Reads an IDX image file and its label file (gzip'ed or not), images
 * scaled to [0, 1] (byte / 255). limit: the first `limit` examples, or all
 * when ≤ 0. Errors: NOT_FOUND for a missing file; CORRUPT_FILE for a
 * truncated or malformed file (named, with the expected and actual size or
 * field); INVALID_ARGUMENT for two files whose counts differ. Since ABI 4. */
DISTILL_API distill_status distill_dataset_load_idx(const char * images_path,
                                                    const char * labels_path, int64_t limit,
                                                    distill_dataset ** out);

/* Fashion-MNIST's "train" (60,000) or "test" (10,000) split from
 * `directory`, or, when NULL, $DISTILL_FASHION_MNIST_DIR, else Debian's
 * /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist).
 * Errors: an unknown split; NOT_FOUND for missing files (the message says
 * what to install); CORRUPT_FILE for damaged ones. Since ABI 4. */
DISTILL_API distill_status distill_dataset_load_fashion_mnist(const char * split,
                                                              const char * directory,
                                                              int64_t limit,
                                                              distill_dataset ** out);

/* A new dataset with examples [begin, begin + count) of `dataset`, its
 * labels and teacher targets included (copied).
 * Errors: an argument NULL, a range outside [0, N]. Since ABI 4. */
DISTILL_API distill_status distill_dataset_slice(const distill_dataset * dataset, int64_t begin,
                                                 int64_t count, distill_dataset ** out);

/* Releases a dataset; NULL is accepted. Since ABI 4. */
DISTILL_API void distill_dataset_free(distill_dataset * dataset);

/* N and D; each out may be NULL. Errors: dataset NULL. Since ABI 4. */
DISTILL_API distill_status distill_dataset_size(const distill_dataset * dataset, int64_t * out_rows,
                                                int64_t * out_features);

typedef enum {
    DISTILL_DATASET_INPUTS = 0,          /* fp32 [N, D] */
    DISTILL_DATASET_LABELS = 1,          /* int64 [N] */
    DISTILL_DATASET_TEACHER_LOGITS = 2,  /* fp32 [N, C] */
    DISTILL_DATASET_TEACHER_TOPK_IDS = 3, /* int32 [N, K] */
    DISTILL_DATASET_TEACHER_TOPK_LOGPROBS = 4 /* fp32 [N, K] */
} distill_dataset_field;

/* A read-only CPU DLTensor view of a field (borrowed; valid until the
 * dataset is changed or freed). *out_present = 0 (and *out untouched) when
 * the dataset has no such field. Errors: an argument NULL, an unknown
 * field. Since ABI 4. */
DISTILL_API distill_status distill_dataset_get(const distill_dataset * dataset, int32_t field,
                                               int32_t * out_present, DLTensor * out);

/* Sets the teacher's targets from dense logits fp32 [N, C] (replacing any
 * top-k targets). Errors: NULL, a wrong dtype or shape. Since ABI 4. */
DISTILL_API distill_status distill_dataset_set_teacher_logits(distill_dataset * dataset,
                                                              const DLTensor * logits);

/* Sets the teacher's targets from top-k ids int32/int64 [N, K] and
 * log-probabilities fp32 [N, K] (replacing dense ones).
 * Errors: NULL, a wrong dtype or shape, an id < 0. Since ABI 4. */
DISTILL_API distill_status distill_dataset_set_teacher_topk(distill_dataset * dataset,
                                                            const DLTensor * ids,
                                                            const DLTensor * logprobs);

typedef struct distill_ask_options {
    uint32_t struct_size;               /* = sizeof(...), set by init */
    int32_t batch_size;                 /* examples per teacher batch; ≥ 1; default 256 */
    distill_progress_callback progress; /* NULL (default) = none */
    void * progress_user_data;
} distill_ask_options;

/* Fills *options with the defaults above. Errors: options == NULL. Since ABI 4. */
DISTILL_API distill_status distill_ask_options_init(distill_ask_options * options);

/*
 * Asks `teacher` about every example of `dataset` (requests as described at
 * distill_teacher_create_model; a callback teacher receives the same JSON)
 * and sets the dataset's top-k teacher targets from the answers (K = the
 * smallest top-k answered). With a store, an answer stored as a success is
 * used without asking, and every new answer is stored (in transactions of
 * batch_size): a second run asks nothing. out_asked / out_from_store may be
 * NULL. Errors: an argument NULL, a teacher answer without top-k or with a
 * class id outside [0, 2^31) (named with the example index), a failed
 * answer (its message), CANCELLED from the progress callback (answers so
 * far stay stored; the targets are not set).
 * Since ABI 4.
 */
DISTILL_API distill_status distill_dataset_ask_teacher(distill_dataset * dataset,
                                                       distill_teacher * teacher,
                                                       distill_store * store,
                                                       const distill_ask_options * options,
                                                       int64_t * out_asked,
                                                       int64_t * out_from_store);

/*
 * Reads the teacher's answers about every example of `dataset` from `store`,
 * offline: no teacher is asked (ABI 5). For a store filled earlier through
 * distill_dataset_ask_teacher or distill_collect (the same requests), by
 * this process or another, or shipped by a colleague without the teacher.
 * Sets the dataset's top-k teacher targets as distill_dataset_ask_teacher
 * would from the same answers (K = the smallest top-k; the same values).
 *
 * An answer is matched by the request, the teacher's identity and the
 * parameters it was asked with, as the store keeps them (the
 * "provenance" "teacher" and "parameters" objects of the lines of
 * distill_store_export_jsonl).
 *  dataset                  in   N ≥ 1 examples.
 *  store                    in   any store, read-only is fine; read in one
 *                                read transaction (a writer may go on).
 *  teacher_identity_json    in   the teacher's identity, or NULL: the only
 *                                teacher whose answers the store holds for
 *                                these examples.
 *  teacher_parameters_json  in   the parameters it was asked with, or NULL:
 *                                the only set that teacher was asked with.
 *                                Needed when the store holds answers to the
 *                                same examples at two temperatures, say.
 * Errors (INVALID_ARGUMENT; the dataset is then unchanged): dataset or store
 * NULL, an empty dataset, JSON that does not parse; a store with no answer
 * to these examples; an identity or parameters that answered none of them,
 * or NULL where several did (the message lists those that did, with how
 * many examples each answered: pass one); missing answers (the message says
 * how many of the N were found, and the first missing example); a stored
 * failure, an answer without top-k or with a class id outside [0, 2^31)
 * (named with the example index). Store errors (INTERNAL).
 * Thread safety: one call at a time per dataset; other threads' calls on
 * the same store wait for the read to end (1 to 2 s for 59,000 images).
 * Since ABI 5.
 */
DISTILL_API distill_status distill_dataset_read_teacher(distill_dataset * dataset,
                                                        distill_store * store,
                                                        const char * teacher_identity_json,
                                                        const char * teacher_parameters_json);

/* ------------------------------------------------------------------------ */
/* 11. Models & trainer                                                      */
/* ------------------------------------------------------------------------ */
/*
 * Built-in students train inside the library, for users without PyTorch
 * (Java, C#, C and C++ services). fp32, on the CPU (GEMMs through
 * OpenBLAS) or, with a CUDA context, on a GPU: distill_model_predict and
 * distill_trainer_* run the forward, the loss and the backward on the
 * device (cuBLAS, and cuDNN for convolutions, both loaded when first
 * needed), as does distill_model_evaluate's forward; the tensors passed in
 * stay host tensors, and the optimizer, the metrics and checkpoints stay on
 * the host; a model teacher (distill_teacher_create_model) answers from the
 * GPU. GPU results match the CPU's to fp32 rounding, not bit for bit.
 *
 * A model is described by a JSON config:
 *   MLP  {"kind": "mlp", "inputs": 784, "hidden": [1200, 1200],
 *         "activation": "relu" | "gelu", "dropout": 0.2, "outputs": 10,
 *         "output": "logits" | "embedding"}
 *   CNN  {"kind": "cnn", "input_shape": [1, 28, 28],
 *         "conv": [{"channels": 16, "kernel": 5, "padding": 2}, ...],
 *         "hidden": [128], "activation": "relu", "dropout": 0.0,
 *         "outputs": 10}   (each convolution: activation, 2×2 max-pool)
 * Parameters carry PyTorch's names and layouts (Linear weight [out, in],
 * Conv2d weight [out, in, kh, kw]), so a saved model loads into the torch
 * module the documentation describes with load_state_dict.
 *
 * Inputs are fp32 [B, D] row-major (an image is flattened C·H·W); outputs
 * fp32 [B, O]. Handles hold each other alive: a trainer or a model teacher
 * keeps its model, so freeing the model first is safe.
 */

/* A new model with seeded initialisation (PyTorch's default: U(±1/√fan_in)
 * for weights and biases; the same values on every machine for a seed).
 * Errors: config_json or out NULL, invalid JSON, an unknown kind or key, a
 * size that is not positive, more than 2^31 parameters. Since ABI 4. */
DISTILL_API distill_status distill_model_create(const char * config_json, uint64_t seed,
                                                distill_model ** out);

/* Loads a model from a checkpoint directory (distill_trainer_save) or a
 * model file (distill_model_save; a safetensors file whose metadata holds
 * the config under "config"). Errors: NOT_FOUND for a missing file;
 * CORRUPT_FILE for a malformed, truncated or tampered one (named, with what
 * was expected and found) or a tensor whose name, dtype or shape does not
 * match the config. Since ABI 4. */
DISTILL_API distill_status distill_model_load(const char * path, distill_model ** out);

/* Writes the weights as one safetensors file (F32, PyTorch names, the config
 * in the metadata), atomically: the file at `path` is either the old one or
 * the new one, never a mix. Errors: an argument NULL; NOT_FOUND (a missing
 * directory), IO_ERROR (an unwritable path), DISK_FULL. Since ABI 4. */
DISTILL_API distill_status distill_model_save(const distill_model * model, const char * path);

/* Releases the caller's reference; NULL is accepted. Since ABI 4. */
DISTILL_API void distill_model_free(distill_model * model);

/* *out = the model's config as canonical JSON, borrowed (valid while the
 * model lives). Errors: an argument NULL. Since ABI 4. */
DISTILL_API distill_status distill_model_config_json(const distill_model * model,
                                                     const char ** out);

/* Input features D, outputs O, number of parameter values, number of
 * parameter tensors; each out may be NULL. Errors: model NULL. Since ABI 4. */
DISTILL_API distill_status distill_model_sizes(const distill_model * model, int64_t * out_inputs,
                                               int64_t * out_outputs, int64_t * out_parameters,
                                               int64_t * out_tensors);

/* Parameter tensor `index` (0 ≤ index < tensors) as a writable fp32 CPU
 * DLTensor view of the model's own memory (shape borrowed from the model;
 * valid while the model lives), and its PyTorch name (borrowed); out_name
 * may be NULL. Writing through the view changes the model (not while a
 * trainer steps it). Errors: model or out NULL, index out of range. Since ABI 4. */
DISTILL_API distill_status distill_model_parameter(distill_model * model, int64_t index,
                                                   const char ** out_name, DLTensor * out);

typedef enum {
    DISTILL_OUTPUT_RAW = 0,              /* logits, or the embedding vector */
    DISTILL_OUTPUT_PROBABILITIES = 1,    /* softmax of the logits */
    DISTILL_OUTPUT_LOG_PROBABILITIES = 2 /* log-softmax of the logits */
} distill_output;

/*
 * Inference: out = the model's output for `inputs`, in eval mode (no
 * dropout).
 *  context  in   a CPU context (its thread count is used), or a CUDA
 *                context: the model runs on that device (inputs and out
 *                stay host tensors; each call makes its own device session).
 *  inputs   in   fp32 [B, D], contiguous, on the CPU; B ≥ 1.
 *  output   in   distill_output (PROBABILITIES and LOG_PROBABILITIES need
 *                a "logits" model).
 *  out      out  fp32 [B, O], contiguous, caller-allocated.
 * Errors: DISTILL_STATUS_INVALID_ARGUMENT when an output is NaN or
 * infinite (NaN in is an error, as in distill_model_evaluate: the message
 * names the row and the weight or input value that caused it); `out` is
 * then untouched.
 * Thread safety: calls on one model are serialised (the model keeps its
 * activations); use one model per thread for parallel inference.
 * Since ABI 4.
 */
DISTILL_API distill_status distill_model_predict(const distill_context * context,
                                                 distill_model * model, const DLTensor * inputs,
                                                 int32_t output, DLTensor * out);

/* ---- Trainer ----------------------------------------------------------- */
/*
 * A trainer: a model, an optimiser, a learning-rate schedule and a loss.
 *  optimizer_json  {"kind": "adamw", "lr": 1e-3, "betas": [0.9, 0.999],
 *                  "eps": 1e-8, "weight_decay": 0.01} (PyTorch's AdamW) or
 *                  {"kind": "sgd", "lr": 0.1, "momentum": 0.9,
 *                  "nesterov": false, "weight_decay": 0}
 *  schedule_json   {"kind": "constant"} or {"kind": "warmup_cosine",
 *                  "warmup_steps": 100, "total_steps": 1000, "min_lr": 0}
 *  loss            the loss family's options: soft_weight > 0 needs teacher
 *                  targets in every batch, hard_weight > 0 needs labels.
 *                  Labels only: soft_weight = 0, hard_weight = 1.
 */
typedef struct distill_trainer_options {
    uint32_t struct_size;                 /* = sizeof(...), set by init */
    const char * optimizer_json;          /* NULL (default) = AdamW as above */
    const char * schedule_json;           /* NULL (default) = constant */
    const distill_kd_loss_options * loss; /* NULL (default) = the loss defaults */
    float max_grad_norm;                  /* clip the global norm; 0 (default) = off */
    uint64_t seed;                        /* dropout and shuffling; default 0 */
} distill_trainer_options;

/* Fills *options with the defaults above. Errors: options == NULL. Since ABI 4. */
DISTILL_API distill_status distill_trainer_options_init(distill_trainer_options * options);

/* Errors: context, model or out NULL; invalid JSON or a value out of range
 * (named); loss options the loss family refuses; on a CUDA context, a
 * failed device session (cuBLAS or cuDNN missing: UNSUPPORTED; device
 * memory: OUT_OF_MEMORY). Since ABI 4. */
DISTILL_API distill_status distill_trainer_create(const distill_context * context,
                                                  distill_model * model,
                                                  const distill_trainer_options * options,
                                                  distill_trainer ** out);

/* Releases a trainer (not its model's other references); NULL accepted. Since ABI 4. */
DISTILL_API void distill_trainer_free(distill_trainer * trainer);

/* One batch: inputs fp32 [B, D]; labels int64 [B] or NULL; the teacher as
 * dense logits fp32 [B, C] or top-k ids int32/int64 [B, K] with
 * log-probabilities fp32 [B, K], or neither. CPU, contiguous. */
typedef struct distill_batch {
    uint32_t struct_size;                  /* = sizeof(...), set by init */
    const DLTensor * inputs;
    const DLTensor * labels;
    const DLTensor * teacher_logits;
    const DLTensor * teacher_topk_ids;
    const DLTensor * teacher_topk_logprobs;
} distill_batch;

/* Fills *batch with NULLs. Errors: batch == NULL. Since ABI 4. */
DISTILL_API distill_status distill_batch_init(distill_batch * batch);

/* What one step did, filled up to out->struct_size (set it first). */
typedef struct distill_step_metrics {
    uint32_t struct_size;  /* set by the caller: sizeof(distill_step_metrics) */
    int64_t step;          /* optimizer steps taken, this one included */
    float loss;            /* the batch's loss (before the update) */
    float learning_rate;   /* the rate this step used */
    float grad_norm;       /* global gradient norm before clipping */
    float accuracy;        /* vs labels, over rows not labelled ignore_index;
                              NaN without such rows */
    float agreement;       /* top-1 agreement with the teacher; NaN without one */
} distill_step_metrics;

/*
 * One distillation step: forward (training mode, dropout on), loss,
 * backward, clipping, optimizer update. out may be NULL.
 * Errors: NULL trainer/batch/inputs; a wrong shape or dtype (named, with
 * the model's D and O); teacher targets or labels missing for the loss;
 * a non-finite loss (the update is skipped, the model unchanged); on a
 * CUDA context, device failures (OUT_OF_MEMORY, INTERNAL) with the
 * backend's message.
 * Since ABI 4.
 */
DISTILL_API distill_status distill_trainer_step(distill_trainer * trainer,
                                                const distill_batch * batch,
                                                distill_step_metrics * out);

/* Evaluation figures, filled up to out->struct_size (set it first). */
typedef struct distill_eval_metrics {
    uint32_t struct_size; /* set by the caller: sizeof(distill_eval_metrics) */
    int64_t examples;
    double accuracy;      /* top-1 vs labels; NaN without labels */
    double agreement;     /* top-1 agreement with the teacher; NaN without one */
    double mean_kl;       /* mean KL(teacher ‖ student): the student at T = 1
                             against the teacher's targets as given (top-k:
                             both renormalised over the k classes); NaN
                             without a teacher */
    double ece;           /* expected calibration error vs labels, 15 bins */
    double loss;          /* mean cross-entropy vs labels; NaN without labels */
} distill_eval_metrics;

/* Evaluates `model` on a whole dataset (eval mode, in batches of 512),
 * against its labels and teacher targets when it has them; on a CUDA
 * context the forward runs on the GPU and the metrics on the host.
 * Errors: an argument NULL, a feature count that differs from the model's,
 * a model with no "logits" output, an output that is NaN or infinite (as
 * distill_model_predict); on a CUDA context, device failures. Since ABI 4. */
DISTILL_API distill_status distill_model_evaluate(const distill_context * context,
                                                  distill_model * model,
                                                  const distill_dataset * dataset,
                                                  distill_eval_metrics * out);

/* Training over a dataset. */
typedef struct distill_fit_options {
    uint32_t struct_size;                 /* = sizeof(...), set by init */
    int32_t epochs;                       /* ≥ 1; default 10 */
    int32_t batch_size;                   /* ≥ 1; default 128 */
    const distill_dataset * validation;   /* evaluated after each epoch; NULL = none */
    int32_t early_stopping_patience;      /* stop after this many epochs without a
                                             better validation accuracy; 0 (default) = off */
    const char * checkpoint_dir;          /* saved after each epoch (and on cancel);
                                             NULL (default) = none */
    int32_t restore_best;                 /* nonzero: end with the weights of the best
                                             validation epoch, also across a resume
                                             (checkpoints then keep the best weights
                                             too); default 0 */
    distill_progress_callback progress;   /* NULL (default) = none */
    void * progress_user_data;
} distill_fit_options;

/* Fills *options with the defaults above. Errors: options == NULL. Since ABI 4. */
DISTILL_API distill_status distill_fit_options_init(distill_fit_options * options);

typedef struct distill_fit_summary {
    uint32_t struct_size;     /* set by the caller: sizeof(distill_fit_summary) */
    int32_t epochs_run;       /* epochs completed in this call */
    int32_t stopped_early;    /* nonzero when early stopping ended the run */
    int32_t best_epoch;       /* 1-based; 0 without validation */
    double best_val_accuracy; /* NaN without validation */
    int64_t steps;            /* optimizer steps taken in all, resumed ones included */
    double seconds;           /* wall-clock seconds of this call */
} distill_fit_summary;

/*
 * Trains for options->epochs epochs (counted from the trainer's current
 * epoch: a resumed trainer continues). Each epoch visits every example once
 * in an order shuffled from (seed, epoch); steps use dropout seeds from
 * (seed, step). On the CPU with a fixed thread count a run is
 * bit-reproducible, and a run resumed from a checkpoint continues
 * bit-identically; on CUDA a run matches the CPU's to fp32 rounding.
 * out may be NULL.
 * Errors: those of distill_trainer_step; an empty dataset; a validation set
 * with different features; CANCELLED from the progress callback (after
 * saving a checkpoint when checkpoint_dir is set).
 * Since ABI 4.
 */
DISTILL_API distill_status distill_trainer_fit(distill_trainer * trainer,
                                               const distill_dataset * train,
                                               const distill_fit_options * options,
                                               distill_fit_summary * out);

/* Writes a checkpoint directory: model.safetensors (the weights, loadable
 * by PyTorch and distill_model_load), optimizer.safetensors,
 * trainer_state.json, best_model.safetensors (the best validation epoch's
 * weights, when a fit with restore_best kept them) and manifest.json
 * (hashes of the others, written last: a crash leaves the previous
 * checkpoint loadable). Errors: an argument NULL; NOT_FOUND, IO_ERROR or
 * DISK_FULL for a directory that cannot be written. Since ABI 4. */
DISTILL_API distill_status distill_trainer_save(const distill_trainer * trainer, const char * dir);

/* Loads a checkpoint into the trainer: weights, optimizer state, schedule
 * position, epoch, step and data order, so that distill_trainer_fit
 * continues where the saved run stopped. Errors: an argument NULL;
 * NOT_FOUND for a missing checkpoint; CORRUPT_FILE for a tampered or
 * malformed one (named); INVALID_ARGUMENT for a model config or optimizer
 * kind that differs from the trainer's. Since ABI 4. */
DISTILL_API distill_status distill_trainer_resume(distill_trainer * trainer, const char * dir);

/* The trainer's epoch (completed epochs) and optimizer step count; each
 * out may be NULL. Errors: trainer NULL. Since ABI 4. */
DISTILL_API distill_status distill_trainer_position(const distill_trainer * trainer,
                                                    int64_t * out_epoch, int64_t * out_step);

/* ------------------------------------------------------------------------ */
/* 12. Tokenizer                                                             */
/* ------------------------------------------------------------------------ */

/*
 * A byte-level BPE tokenizer (the GPT-2, Llama 3, Qwen 2 family), read from
 * and written to Hugging Face tokenizer.json. Since ABI 8.
 *
 * Text is bytes (UTF-8, or not: invalid sequences are tokenized through the
 * byte alphabet like any other bytes), so decode(encode(text)) == text for
 * every input. Ids are those of tokenizers' encode(text,
 * add_special_tokens=False): added tokens (special or not) are matched in
 * the raw text first; a post_processor in the file is kept and written
 * back but not applied.
 *
 * Buffers follow snprintf: a function that writes an array sets *out_count
 * (*out_length) to the full size and writes the array only when capacity
 * holds all of it, so a caller can ask with capacity 0 and call again.
 *
 * Thread safety: a tokenizer may be used from several threads at once
 * (encode calls on one tokenizer run one at a time; they share its cache).
 */
typedef struct distill_tokenizer distill_tokenizer;

/* Loads a tokenizer.json file. Since ABI 8.
 * Errors: INVALID_ARGUMENT for an argument NULL or malformed JSON (with
 * the parser's position), a field of the wrong type, a merge whose tokens
 * are not in the vocabulary (each named); UNSUPPORTED, naming it, for what
 * is not a byte-level BPE: another model type ("model type WordPiece is not
 * supported: expected BPE"), a normalizer, a pre-tokenizer other than
 * ByteLevel or a Sequence of Split ending in ByteLevel, a decoder other
 * than ByteLevel, byte_fallback; NOT_FOUND naming the path for a missing
 * file, IO_ERROR when it cannot be opened or read. */
DISTILL_API distill_status distill_tokenizer_load(const char * path, distill_tokenizer ** out);

/* The same from tokenizer.json text (json[0, length), not necessarily
 * NUL-terminated). Since ABI 8. Errors: as distill_tokenizer_load. */
DISTILL_API distill_status distill_tokenizer_from_json(const char * json, int64_t length,
                                                       distill_tokenizer ** out);

/* Accepts NULL. Since ABI 8. */
DISTILL_API void distill_tokenizer_free(distill_tokenizer * tokenizer);

/* ids[0, *out_count) = the tokens of text[0, length). capacity 2·length + 1
 * always suffices (one id per byte, plus one per segment where
 * add_prefix_space adds a space). ids may be NULL when capacity is 0.
 * Since ABI 8. Errors: tokenizer, out_count NULL; text NULL with
 * length > 0; a negative length or capacity. */
DISTILL_API distill_status distill_tokenizer_encode(const distill_tokenizer * tokenizer,
                                                    const char * text, int64_t length,
                                                    int32_t * ids, int64_t capacity,
                                                    int64_t * out_count);

/* out[0, *out_length) = the bytes of ids[0, count) (not NUL-terminated);
 * added tokens, special ones included, give their content. Since ABI 8. Errors: tokenizer, out_length NULL; ids NULL with count > 0;
 * an id that is no token's ("ids[3]: expected a token id in [0, 50257),
 * got 70000"). */
DISTILL_API distill_status distill_tokenizer_decode(const distill_tokenizer * tokenizer,
                                                    const int32_t * ids, int64_t count, char * out,
                                                    int64_t capacity, int64_t * out_length);

/* *out = one more than the largest token id (model and added tokens): the
 * row count of an embedding for it. Since ABI 8. */
DISTILL_API distill_status distill_tokenizer_vocab_size(const distill_tokenizer * tokenizer,
                                                        int32_t * out);

/* *out_id = the id of token[0, length): an added token's content, or a
 * model token as spelled in the vocabulary (byte-level alphabet: " the" is
 * "Ġthe"). Since ABI 8. Errors: an argument NULL; NOT_FOUND when no token
 * has that spelling (*out_id untouched). */
DISTILL_API distill_status distill_tokenizer_token_to_id(const distill_tokenizer * tokenizer,
                                                         const char * token, int64_t length,
                                                         int32_t * out_id);

/* out[0, *out_length) = the spelling of token `id` (as token_to_id takes
 * it). Since ABI 8. Errors: tokenizer, out_length NULL; NOT_FOUND for an id
 * no token has. */
DISTILL_API distill_status distill_tokenizer_id_to_token(const distill_tokenizer * tokenizer,
                                                         int32_t id, char * out, int64_t capacity,
                                                         int64_t * out_length);

/* out[0, *out_length) = the tokenizer.json text (loads in tokenizers'
 * Tokenizer.from_str and in distill_tokenizer_from_json). Since ABI 8. */
DISTILL_API distill_status distill_tokenizer_to_json(const distill_tokenizer * tokenizer,
                                                     char * out, int64_t capacity,
                                                     int64_t * out_length);

/* Writes the tokenizer.json file atomically. Since ABI 8.
 * Errors: an argument NULL; IO_ERROR naming the path. */
DISTILL_API distill_status distill_tokenizer_save(const distill_tokenizer * tokenizer,
                                                  const char * path);

/* Options of distill_tokenizer_train. Since ABI 8. */
typedef struct distill_tokenizer_train_options {
    uint32_t struct_size;  /* sizeof(distill_tokenizer_train_options) */
    int32_t vocab_size;    /* tokens in all, specials included; ≥ 256 + specials; default 0
                              (must be set) */
    int64_t min_frequency; /* stop when the best pair occurs fewer times; default 2 */
    const char * split;    /* "gpt2" (ByteLevel's built-in regex, the default),
                              "llama3" (Split with Llama 3's regex, then
                              ByteLevel), or another regex (PCRE2 syntax, used
                              like Llama 3's); NULL = "gpt2" */
    const char * const * special_tokens; /* ids 0..count-1, in order; may be NULL */
    int64_t special_token_count;
} distill_tokenizer_train_options;

/* Fills *options with the defaults above. Since ABI 8. */
DISTILL_API distill_status
distill_tokenizer_train_options_init(distill_tokenizer_train_options * options);

/*
 * Trains a byte-level BPE on texts[i][0, lengths[i]) for i < count: the
 * texts are pre-tokenized as the tokenizer will (special tokens cut out),
 * the 256 byte characters are the first tokens after the specials, and the
 * most frequent adjacent pair is merged until vocab_size tokens (or no
 * pair reaches min_frequency). Ties go to the pair of smaller ids: the
 * result depends on the texts and options only. Since ABI 8.
 * Errors: texts or lengths NULL with count > 0, a negative length,
 * options NULL or with a vocab_size below 256 + specials, a split regex
 * that does not compile (PCRE2's message), an empty or repeated special
 * token.
 */
DISTILL_API distill_status distill_tokenizer_train(const char * const * texts,
                                                   const int64_t * lengths, int64_t count,
                                                   const distill_tokenizer_train_options * options,
                                                   distill_tokenizer ** out);

/* ------------------------------------------------------------------------ */
/* 13. Token datasets                                                        */
/* ------------------------------------------------------------------------ */

/*
 * A corpus encoded once by a tokenizer and kept in a file (*.tokens) that
 * is memory-mapped, not read: pages come from disk as windows are read, so
 * a corpus larger than RAM serves as well as a small one. Since ABI 9.
 *
 * Making one (distill_tokenize_files): each document's ids, then the
 * end-of-document token's id; the documents split into training and
 * validation BY DOCUMENT (of N documents, round(validation_fraction · N),
 * at least 1 and at most N − 1, chosen by the seed; a document is wholly
 * in one split, each split keeps corpus order); each split's documents
 * concatenated. Ids are stored as uint16 when the vocabulary has at most
 * 65,536 ids, else uint32. The same corpus and options give the same file,
 * byte for byte; it is written atomically.
 *
 * Documents of a file, by layout:
 *   FILE         the whole file is one document (the default, except for
 *                names ending in .jsonl)
 *   BLANK_LINES  documents separated by blank lines (empty, or spaces and
 *                tabs only); a document is its lines from the first
 *                non-blank one to the last, without the final line ending
 *   JSONL        one JSON object per line with a string field "text";
 *                blank lines skipped; any other line is CORRUPT_FILE naming
 *                the file and the line number
 * Empty documents are skipped.
 *
 * Serving one (distill_text_dataset): window i of a split is its tokens
 * [i·context, i·context + context + 1); a model reads the first context
 * and predicts the last context (the same tokens shifted by one).
 * Consecutive windows share one token; the split's tail shorter than a
 * window is not served. Windows cross document boundaries, the
 * end-of-document id marking where one ends.
 *
 * Thread safety: a dataset handle is read-only once open; any number of
 * threads may read windows at once.
 */
typedef enum {
    DISTILL_CORPUS_LAYOUT_AUTO = 0, /* JSONL for *.jsonl, else FILE */
    DISTILL_CORPUS_LAYOUT_FILE = 1,
    DISTILL_CORPUS_LAYOUT_BLANK_LINES = 2,
    DISTILL_CORPUS_LAYOUT_JSONL = 3
} distill_corpus_layout;

typedef enum { DISTILL_SPLIT_TRAIN = 0, DISTILL_SPLIT_VALIDATION = 1 } distill_split;

/* What distill_tokenize_files has done so far, handed to its callback.
 * struct_size is the library's sizeof (see section 9). Since ABI 9. */
typedef struct distill_tokenize_progress {
    uint32_t struct_size;
    int32_t writing;          /* 1 once all is read and the file is being written */
    int64_t files_done;
    int64_t files_total;
    int64_t bytes_done;       /* of the input files */
    int64_t bytes_total;
    int64_t documents;        /* encoded so far */
    int64_t tokens;           /* encoded so far, end-of-document ids included */
    double elapsed_seconds;   /* since the call began */
} distill_tokenize_progress;

/* Called on the calling thread about every progress_interval_seconds while
 * reading and once when writing begins; returning DISTILL_STATUS_CANCELLED
 * stops the call, which returns CANCELLED and leaves out_path as it was.
 * Since ABI 9. */
typedef distill_status (*distill_tokenize_callback)(void * user_data,
                                                    const distill_tokenize_progress * progress);

/* Options of distill_tokenize_files. Since ABI 9. */
typedef struct distill_tokenize_options {
    uint32_t struct_size;        /* sizeof(distill_tokenize_options) */
    int32_t context;             /* window length, ≥ 1; default 0 (must be set) */
    double validation_fraction;  /* in [0, 1); default 0 (no validation split) */
    uint64_t seed;               /* of the split; default 0 */
    const char * eos_token;      /* content of an added token of the tokenizer;
                                    NULL = "<|endoftext|>" */
    int32_t layout;              /* distill_corpus_layout; default AUTO */
    double progress_interval_seconds; /* default 0.5 */
    distill_tokenize_callback progress; /* may be NULL */
    void * progress_user_data;
} distill_tokenize_options;

/* Fills *options with the defaults above. Since ABI 9. */
DISTILL_API distill_status distill_tokenize_options_init(distill_tokenize_options * options);

/* What distill_tokenize_files wrote (the caller sets struct_size). Since ABI 9. */
typedef struct distill_tokenize_summary {
    uint32_t struct_size;
    int32_t token_bytes;          /* 2 or 4 */
    int64_t train_documents;
    int64_t validation_documents;
    int64_t train_tokens;
    int64_t validation_tokens;
    int64_t train_windows;
    int64_t validation_windows;
    int64_t file_bytes;
} distill_tokenize_summary;

/*
 * Encodes the documents of paths[0, path_count) with `tokenizer` and writes
 * the token dataset file out_path (see above). summary may be NULL.
 * Since ABI 9.
 * Errors: an argument NULL (summary aside), path_count < 1, a context < 1,
 * a validation_fraction outside [0, 1), an eos_token that is not one of the
 * tokenizer's added tokens (the message lists them), a split that would
 * hold no whole window, a validation fraction above 0 with fewer than 2
 * documents: INVALID_ARGUMENT. NOT_FOUND / IO_ERROR naming an input or the
 * output that cannot be read or written; CORRUPT_FILE for a malformed JSONL
 * line (file and line named); DISK_FULL; CANCELLED from the callback.
 */
DISTILL_API distill_status distill_tokenize_files(const distill_tokenizer * tokenizer,
                                                  const char * const * paths, int64_t path_count,
                                                  const char * out_path,
                                                  const distill_tokenize_options * options,
                                                  distill_tokenize_summary * summary);

/* Maps a token dataset file read-only. Since ABI 9.
 * Errors: NOT_FOUND / IO_ERROR naming the path; CORRUPT_FILE for a file
 * that is truncated, of another kind or of another format version, saying
 * what was expected and what was found. */
DISTILL_API distill_status distill_text_dataset_open(const char * path, distill_text_dataset ** out);

/* Accepts NULL. Unmaps the file. Since ABI 9. */
DISTILL_API void distill_text_dataset_free(distill_text_dataset * dataset);

/* The header of an open dataset (the caller sets struct_size). Since ABI 9. */
typedef struct distill_text_dataset_info {
    uint32_t struct_size;
    int32_t context;
    int32_t vocab_size;
    int32_t eos_id;
    int32_t token_bytes;          /* 2: windows are uint16_t, 4: uint32_t */
    int64_t train_documents;
    int64_t validation_documents;
    int64_t train_tokens;
    int64_t validation_tokens;
    int64_t train_windows;
    int64_t validation_windows;
    uint8_t tokenizer_sha256[32]; /* of the tokenizer's tokenizer.json as
                                     distill_tokenizer_to_json writes it */
} distill_text_dataset_info;

/* Since ABI 9. Errors: an argument NULL; a struct_size not of this struct. */
DISTILL_API distill_status distill_text_dataset_get_info(const distill_text_dataset * dataset,
                                                         distill_text_dataset_info * out);

/* *out_tokens = window `index` of `split` inside the mapping (context + 1
 * tokens of info.token_bytes bytes each, valid until the dataset is freed),
 * *out_length = context + 1. Since ABI 9. Errors: an argument NULL, a split
 * not a distill_split, an index outside [0, windows). */
DISTILL_API distill_status distill_text_dataset_window(const distill_text_dataset * dataset,
                                                       int32_t split, int64_t index,
                                                       const void ** out_tokens,
                                                       int64_t * out_length);

/* For b < count, window windows[b] of `split` into
 *   tokens  [count, context] int32: its first context tokens
 *   targets [count, context] int32: its last context tokens (the inputs
 *                            shifted by one; no -100 is ever written)
 * Since ABI 9. Errors: an argument NULL (with count > 0), a negative count,
 * an index outside [0, windows); CORRUPT_FILE for an id at or above
 * vocab_size in the file (split, window and position named). */
DISTILL_API distill_status distill_text_dataset_copy_batch(const distill_text_dataset * dataset,
                                                           int32_t split, const int64_t * windows,
                                                           int64_t count, int32_t * tokens,
                                                           int32_t * targets);

/* out[0, *out_count) = a permutation of the windows of `split` fixed by
 * `seed` (the same on every machine), filled the snprintf way: *out_count
 * is always the window count, out written only when capacity holds it.
 * Since ABI 9. */
DISTILL_API distill_status distill_text_dataset_shuffled_windows(
    const distill_text_dataset * dataset, int32_t split, uint64_t seed, int64_t * out,
    int64_t capacity, int64_t * out_count);

/* OK when the dataset was made with `tokenizer` (the hashes of their
 * tokenizer.json agree); INVALID_ARGUMENT showing both hashes otherwise.
 * Since ABI 9. */
DISTILL_API distill_status distill_text_dataset_check_tokenizer(
    const distill_text_dataset * dataset, const distill_tokenizer * tokenizer);

/* OK when a model of model_vocab ids and model_context positions can read
 * the dataset; INVALID_ARGUMENT naming both numbers for a dataset whose
 * vocabulary is larger than the model's or whose context is longer.
 * Since ABI 9. */
DISTILL_API distill_status distill_text_dataset_check_model(const distill_text_dataset * dataset,
                                                            int64_t model_vocab,
                                                            int64_t model_context);

/* ------------------------------------------------------------------------ */
/* 14. Hugging Face folders                                                  */
/* ------------------------------------------------------------------------ */
/*
 * A transformer student (the Llama architecture) as the folder that
 * transformers' AutoModelForCausalLM.from_pretrained and
 * AutoTokenizer.from_pretrained load from a local path: config.json
 * (LlamaForCausalLM's), model.safetensors (F32, Hugging Face's names) and,
 * with a tokenizer, tokenizer.json and tokenizer_config.json. The model
 * file on our side is the transformer trainer's: one safetensors file of
 * the same names with the student's JSON config in its metadata.
 */

/* Writes the model file `model_path` (and the tokenizer.json file
 * `tokenizer_path`, or none when NULL) as the folder `dir`: written beside
 * it and renamed into place whole, so `dir` is never half written; an
 * existing `dir` is replaced. Errors: model_path or dir NULL or empty;
 * NOT_FOUND / CORRUPT_FILE for the files read; INVALID_ARGUMENT for a
 * tokenizer with more ids than the model's vocabulary; IO_ERROR, DISK_FULL
 * for the folder. Since ABI 9. */
DISTILL_API distill_status distill_hf_folder_export(const char * model_path,
                                                    const char * tokenizer_path,
                                                    const char * dir);

/* Reads the folder `dir` (a small Llama checkpoint saved by
 * save_pretrained: one model.safetensors, F32, F16, BF16 or F64 weights,
 * read as fp32) and writes the model file `model_path` and, when
 * `tokenizer_path` is not NULL, the folder's tokenizer.json there
 * (re-written by distill's tokenizer; with NULL, tokenizer.json is not
 * read, so a tokenizer of another family does not stop the model's
 * import). Errors: NOT_FOUND for no folder, no
 * config.json, no model.safetensors, or a tokenizer_path asked for when the
 * folder has no tokenizer.json; CORRUPT_FILE for a config.json that is not
 * JSON or has fields of the wrong type, a truncated or damaged
 * model.safetensors, a tensor missing, misshapen or foreign; UNSUPPORTED,
 * naming the field and its value, for what the student lacks (rope_scaling,
 * attention_bias or mlp_bias true, a hidden_act other than silu, a head_dim
 * other than hidden_size / num_attention_heads, quantized or sharded
 * weights, a tokenizer of another family). Since ABI 9. */
DISTILL_API distill_status distill_hf_folder_import(const char * dir, const char * model_path,
                                                    const char * tokenizer_path);

/* ------------------------------------------------------------------------ */
/* 15. Language models                                                       */
/* ------------------------------------------------------------------------ */
/*
 * A transformer student (decoder-only, the Llama architecture: RMSNorm,
 * rotary positions, SwiGLU, grouped-query attention) is a distill_model:
 *   {"kind": "transformer", "vocab": 8192, "dim": 256, "layers": 4,
 *    "heads": 8, "kv_heads": 4, "ffn": 688, "context": 256,
 *    "tie_embeddings": false, "rope_theta": 10000, "rms_norm_eps": 1e-5}
 * through section 11's calls where they fit, since ABI 10:
 *   distill_model_create   seeded as transformers' LlamaForCausalLM
 *                          (normal(0, 0.02), norms 1)
 *   distill_model_load     a transformer model file (distill_model_save,
 *                          distill_hf_folder_import) or the checkpoint
 *                          directory of a transformer trainer
 *   distill_model_save, _free, _config_json, _parameter (Hugging Face's
 *                          names and shapes: model.embed_tokens.weight ...)
 *   distill_model_sizes    inputs = the context length, outputs = the
 *                          vocabulary
 *   distill_trainer_create a transformer trainer (CPU context; options as
 *                          for the other students, the loss reduced
 *                          BATCHMEAN over the positions that count, with
 *                          ignore_index -100; options.seed is unused:
 *                          distill_trainer_fit_text has its own)
 *   distill_trainer_save, _resume, _position (epoch 0)
 * and the calls below. distill_model_predict, distill_model_evaluate,
 * distill_teacher_create_model, distill_trainer_step and _fit refuse a
 * transformer (INVALID_ARGUMENT naming the call to use); the calls below
 * refuse an MLP or CNN.
 */

/* next-token logits of a transformer:
 *  context  in   a CPU context (its thread count is used)
 *  tokens   in   int32 [B, T], ids in [0, vocab), 1 ≤ T ≤ context, CPU,
 *                contiguous; position t sees tokens 0 … t of its row
 *  out      out  fp32 [B, T, vocab], contiguous, caller-allocated
 * Errors: an argument NULL; a wrong dtype, shape or id (named, with the
 * model's vocabulary and context); a CUDA context: UNSUPPORTED (the
 * transformer runs on the CPU in this version). Since ABI 10. */
DISTILL_API distill_status distill_lm_logits(const distill_context * context,
                                             distill_model * model, const DLTensor * tokens,
                                             DLTensor * out);

/* One batch of token distillation (CPU, contiguous):
 *  tokens                int32 [B, T]: the inputs (prompt + completion)
 *  labels                int32 [B, T]: the next-token targets, -100 where a
 *                        position counts for no term (prompt, padding);
 *                        NULL = tokens shifted by one (labels[b, t] =
 *                        tokens[b, t + 1]) with the last position -100
 *  teacher_logits        fp32 [B, T, vocab]: dense teacher targets, or NULL
 *  teacher_topk_ids      int32 [B, T, K], -1 an empty slot (an alternative
 *                        the student's vocabulary lacks, or fewer than K),
 *  teacher_topk_logprobs fp32 [B, T, K] at temperature 1: top-k targets
 *                        as HTTP teachers return them, or both NULL
 * With no teacher the step is the plain next-token cross-entropy against
 * labels (sequence-level distillation when they are a teacher's
 * completion), whatever the loss weights. Since ABI 10. */
typedef struct distill_token_batch {
    uint32_t struct_size; /* = sizeof(...), set by init */
    const DLTensor * tokens;
    const DLTensor * labels;
    const DLTensor * teacher_logits;
    const DLTensor * teacher_topk_ids;
    const DLTensor * teacher_topk_logprobs;
} distill_token_batch;

/* Fills *batch with NULLs. Errors: batch NULL. Since ABI 10. */
DISTILL_API distill_status distill_token_batch_init(distill_token_batch * batch);

/* What one token step did, filled up to out->struct_size (set it first). */
typedef struct distill_token_step_metrics {
    uint32_t struct_size;
    int64_t step;          /* optimizer steps taken, this one included */
    double loss;           /* the batch's loss, before the update */
    double learning_rate;  /* the rate this step used */
    double grad_norm;      /* global gradient norm before clipping */
    double soft_loss;      /* mean divergence from the teacher, unweighted; NaN without one */
    double hard_loss;      /* mean cross-entropy against labels, unweighted */
    int64_t positions;     /* positions that counted (labels != -100) */
} distill_token_step_metrics;

/* One update of a transformer trainer from `batch`: forward, the loss of
 * the trainer's options per position, backward, clipping, optimizer step.
 * out may be NULL. Errors: an argument NULL (out aside); a trainer of an
 * MLP or CNN; wrong shapes or dtypes (named, with the model's vocabulary
 * and context); teacher ids outside [-1, vocab) or repeated in a row;
 * log-probabilities above 0; a non-finite loss or gradient (the update is
 * skipped, the model unchanged). Since ABI 10. */
DISTILL_API distill_status distill_trainer_step_tokens(distill_trainer * trainer,
                                                       const distill_token_batch * batch,
                                                       distill_token_step_metrics * out);

/* Options of distill_lm_evaluate. Since ABI 10. */
typedef struct distill_lm_eval_options {
    uint32_t struct_size;      /* = sizeof(...), set by init */
    int32_t split;             /* distill_split; default VALIDATION */
    int32_t batch_windows;     /* windows per forward, ≥ 1; default 8 */
    int64_t max_windows;       /* the first this many windows; 0 (default) = all */
    distill_model * teacher;   /* a transformer of the same vocabulary whose
                                  agreement and KL are measured; NULL (default) = none */
} distill_lm_eval_options;

/* Fills *options with the defaults above. Errors: options NULL. Since ABI 10. */
DISTILL_API distill_status distill_lm_eval_options_init(distill_lm_eval_options * options);

/* Figures over the positions evaluated (filled up to out->struct_size). */
typedef struct distill_lm_eval_metrics {
    uint32_t struct_size;
    int64_t windows;
    int64_t positions;   /* windows · context */
    double loss;         /* mean next-token cross-entropy, nats */
    double perplexity;   /* exp(loss) */
    double accuracy;     /* top-1 next-token accuracy against the data */
    double agreement;    /* top-1 agreement with the teacher; NaN without one */
    double mean_kl;      /* mean KL(teacher ‖ student) at temperature 1; NaN without one */
} distill_lm_eval_metrics;

/* Evaluates a transformer on the windows of a token dataset (section 13):
 * window w's first context tokens in, its last context tokens as targets.
 * Ties of an argmax go to the lowest id; the figures are the same for any
 * thread count. Errors: an argument NULL (options aside: NULL = the
 * defaults); a model or teacher that is not a transformer; a dataset of a
 * larger vocabulary or longer context than the model's (both numbers
 * named); a split with no window; a teacher of another vocabulary or a
 * shorter context; a CUDA context: UNSUPPORTED. Since ABI 10. */
DISTILL_API distill_status distill_lm_evaluate(const distill_context * context,
                                               distill_model * model,
                                               const distill_text_dataset * dataset,
                                               const distill_lm_eval_options * options,
                                               distill_lm_eval_metrics * out);

/* What distill_trainer_fit_text has done, handed to its callback after
 * every step (evaluated = 0) and after every validation (evaluated = 1;
 * never without a validation split, so never in distill_trainer_fit_stored).
 * The callback's status after the final validation is not used (the steps
 * are done). struct_size is the library's sizeof (section 9). Since ABI 10. */
typedef struct distill_text_fit_progress {
    uint32_t struct_size;
    int32_t evaluated;
    int64_t step;                /* the trainer's global step */
    int64_t steps;               /* the step the fit trains to */
    double loss;                 /* mean training loss of this call's steps */
    double tokens_per_second;    /* training positions per second in this call */
    double elapsed_seconds;
    distill_lm_eval_metrics validation; /* evaluated = 1; zeros otherwise */
} distill_text_fit_progress;

typedef distill_status (*distill_text_fit_callback)(void * user_data,
                                                    const distill_text_fit_progress * progress);

/* Options of distill_trainer_fit_text. Since ABI 10. */
typedef struct distill_text_fit_options {
    uint32_t struct_size;         /* = sizeof(...), set by init */
    int64_t steps;                /* train until the trainer's step is this; > its step (must be set) */
    int32_t batch_windows;        /* windows per step, ≥ 1; default 8 */
    uint64_t seed;                /* of the window order; default 0 */
    int64_t eval_interval;        /* validate every this many steps, and at the end;
                                     0 (default) = at the end only */
    int64_t eval_windows;         /* validation windows per evaluation; 0 (default) = all */
    const char * checkpoint_dir;  /* written at each validation, at the end and on
                                     cancel; NULL (default) = none */
    distill_model * teacher;      /* an in-process teacher transformer of the same
                                     vocabulary: its logits are each batch's dense
                                     targets; NULL (default) = next-token training */
    distill_text_fit_callback progress; /* NULL (default) = none */
    void * progress_user_data;
} distill_text_fit_options;

/* Fills *options with the defaults above. Errors: options NULL. Since ABI 10. */
DISTILL_API distill_status distill_text_fit_options_init(distill_text_fit_options * options);

typedef struct distill_text_fit_summary {
    uint32_t struct_size;    /* set by the caller */
    int64_t steps_run;       /* in this call */
    int64_t global_step;     /* the trainer's, at the end */
    double final_loss;       /* the last step's; NaN if none ran */
    int32_t validated;       /* 1 when the dataset's validation split was evaluated */
    distill_lm_eval_metrics validation; /* the last validation's figures */
    double seconds;
} distill_text_fit_summary;

/*
 * Trains a transformer trainer on the training windows of a token dataset
 * until its global step is options->steps. Step s takes windows
 * [s·B, s·B + B) of the concatenation of per-epoch orders (each epoch
 * every window once, shuffled by (seed, epoch)), so a trainer resumed from
 * a checkpoint continues with exactly the batches of an uninterrupted run;
 * on the CPU with a fixed thread count the run is bit-reproducible.
 * out may be NULL.
 * Errors: those of distill_trainer_step_tokens; options NULL or steps not
 * above the trainer's step; a dataset the model cannot read (vocabulary or
 * context), without training windows; a teacher that is not a transformer
 * of the same vocabulary and at least the dataset's context; CANCELLED
 * from the callback (after the checkpoint, when one is configured).
 * Since ABI 10.
 */
DISTILL_API distill_status distill_trainer_fit_text(distill_trainer * trainer,
                                                    const distill_text_dataset * dataset,
                                                    const distill_text_fit_options * options,
                                                    distill_text_fit_summary * out);

/* What distill_trainer_fit_stored read from the store (filled up to
 * out->struct_size). Since ABI 10. */
typedef struct distill_stored_rows_info {
    uint32_t struct_size;
    int64_t rows;                 /* answers trained on, one row each */
    int64_t topk;                 /* K: the most alternatives an answer has */
    int64_t text_only;            /* rows of answers without top-k log-probabilities:
                                     their text, learnt by the hard term alone */
    int64_t failed;               /* answers left out: failed requests, */
    int64_t empty;                /* empty completions, */
    int64_t too_long;             /* prompt + completion longer than the context */
    int64_t alternatives;         /* alternatives mapped to the student's ids: */
    int64_t by_id;                /*   by the server's token id */
    int64_t by_bytes;             /*   by the token's bytes */
    int64_t unmapped;             /*   not in the student's vocabulary (the tail) */
} distill_stored_rows_info;

/*
 * Token-level distillation from a teacher's stored answers (distill query
 * with top_logprobs, a Batch API ingest): each successful answer becomes a
 * row, its prompt as the student's tokens (`tokenizer`), then the
 * completion, whose positions are trained against the teacher's top-k
 * log-probabilities (mapped to the student's ids by the server's id, else
 * by the token's bytes; prompt positions masked), by the trainer's loss
 * options. An answer without log-probabilities is a row of its text
 * encoded by the student, learnt by the hard term alone (sequence-level
 * distillation: such rows need a trainer with hard_weight > 0). The prompt is the request's "prompt", or its chat "messages"
 * rendered "<role>: <content>\n" each, then "assistant: ". Rows are held in
 * memory; the data order is distill_trainer_fit_text's over rows. There is
 * no validation split (options->eval_interval only sets when checkpoints
 * are written). out_rows and out may be NULL.
 *  teacher_identity_json  whose answers (provenance.teacher of distill store
 *                         export); NULL = the only teacher in the store
 * Errors: those of distill_trainer_fit_text; options->teacher set; a store
 * without an answer to train on (the counts left out named), of several
 * teachers without a choice (each listed); a completion token the
 * student's tokenizer lacks, or alternatives that show another vocabulary
 * (both vocabularies named) — all before the first step.
 * Since ABI 10.
 */
DISTILL_API distill_status distill_trainer_fit_stored(distill_trainer * trainer,
                                                      distill_store * store,
                                                      const distill_tokenizer * tokenizer,
                                                      const char * teacher_identity_json,
                                                      const distill_text_fit_options * options,
                                                      distill_stored_rows_info * out_rows,
                                                      distill_text_fit_summary * out);

/* distill_lm_evaluate over a teacher's stored answers, read as
 * distill_trainer_fit_stored reads them (rows of prompt + completion, the
 * student's `tokenizer`): over the positions that predict a completion
 * token, loss, perplexity and accuracy against the teacher's completion,
 * agreement with its top-1 alternative (one the student's vocabulary lacks
 * never agrees); mean_kl is NaN (top-k targets are not a whole
 * distribution). options: batch_windows (rows per forward) and
 * max_windows (the first rows) are used; split and teacher must be left at
 * their defaults. out_rows may be NULL. Errors: those of
 * distill_lm_evaluate and of reading the answers
 * (distill_trainer_fit_stored). Agreement counts the rows with top-k
 * targets only (NaN when none has). Since ABI 10. */
DISTILL_API distill_status distill_lm_evaluate_stored(const distill_context * context,
                                                      distill_model * model,
                                                      distill_store * store,
                                                      const distill_tokenizer * tokenizer,
                                                      const char * teacher_identity_json,
                                                      const distill_lm_eval_options * options,
                                                      distill_stored_rows_info * out_rows,
                                                      distill_lm_eval_metrics * out);

#ifdef __cplusplus
}
#endif

#endif /* DISTILL_DISTILL_H */
