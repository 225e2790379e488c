// The field layout of every versioned struct of distill.h, listed once: the
// end (offset + size) and alignment of each field after struct_size, in the
// header's order. versioned_struct.h derives from it the struct_size values
// a caller may pass (see versioned_accepted_sizes).
//
// Appending a field to a struct in distill.h means appending it here too;
// the static_asserts at the bottom fail when the list no longer ends where
// the struct does, or is out of order.
#pragma once

#include <distill/distill.h>

#include <array>
#include <cstddef>

namespace distill::capi {

// One field of a versioned struct: where it ends and how it aligns.
struct field_end {
    size_t end;
    size_t align;
};

// Specialised below for each struct: `name` (its C name) and `fields`.
template <class T>
struct versioned_layout;

}  // namespace distill::capi

#define DISTILL_FIELD(T, f) \
    ::distill::capi::field_end { offsetof(T, f) + sizeof(T::f), alignof(decltype(T::f)) }

// DISTILL_NAME expands its argument first (T is the macro S below).
#define DISTILL_NAME_OF(T) #T
#define DISTILL_NAME(T) DISTILL_NAME_OF(T)
#define DISTILL_LAYOUT(T, ...)                                             \
    template <>                                                            \
    struct distill::capi::versioned_layout<T> {                            \
        static constexpr const char * name = DISTILL_NAME(T);              \
        static constexpr std::array fields = {__VA_ARGS__};                \
    }

#define F(f) DISTILL_FIELD(S, f)

// ---- Options the caller fills (read: the caller's prefix over defaults) ----

#define S distill_context_options
DISTILL_LAYOUT(S, F(device_type), F(device_id), F(num_threads), F(cuda_stream));
#undef S

#define S distill_kd_loss_options
DISTILL_LAYOUT(S, F(divergence), F(beta), F(temperature), F(scale_by_t2), F(soft_weight),
               F(hard_weight), F(ignore_index), F(reduction), F(tail));
#undef S

#define S distill_store_options
DISTILL_LAYOUT(S, F(read_only), F(busy_timeout_ms));
#undef S

#define S distill_callback_teacher_options
DISTILL_LAYOUT(S, F(name), F(model), F(parameters_json));
#undef S

#define S distill_http_teacher_options
DISTILL_LAYOUT(S, F(base_url), F(model), F(dialect), F(api_key_env), F(api_key_file),
               F(parameters_json), F(timeout_ms), F(connect_timeout_ms), F(low_speed_seconds),
               F(max_retries), F(max_retry_seconds), F(retry_base_ms), F(retry_max_delay_ms),
               F(verify_tls));
#undef S

#define S distill_collect_options
DISTILL_LAYOUT(S, F(concurrency), F(requests_per_minute), F(tokens_per_minute), F(price_prompt),
               F(price_cached), F(price_completion), F(progress), F(progress_user_data),
               F(stop_on_fatal_error));
#undef S

#define S distill_model_teacher_options
DISTILL_LAYOUT(S, F(name), F(top_k), F(temperature));
#undef S

#define S distill_ask_options
DISTILL_LAYOUT(S, F(batch_size), F(progress), F(progress_user_data));
#undef S

#define S distill_trainer_options
DISTILL_LAYOUT(S, F(optimizer_json), F(schedule_json), F(loss), F(max_grad_norm), F(seed));
#undef S

#define S distill_batch
DISTILL_LAYOUT(S, F(inputs), F(labels), F(teacher_logits), F(teacher_topk_ids),
               F(teacher_topk_logprobs));
#undef S

#define S distill_fit_options
DISTILL_LAYOUT(S, F(epochs), F(batch_size), F(validation), F(early_stopping_patience),
               F(checkpoint_dir), F(restore_best), F(progress), F(progress_user_data));
#undef S

#define S distill_tokenizer_train_options
DISTILL_LAYOUT(S, F(vocab_size), F(min_frequency), F(split), F(special_tokens),
               F(special_token_count));
#undef S

#define S distill_tokenize_options
DISTILL_LAYOUT(S, F(context), F(validation_fraction), F(seed), F(eos_token), F(layout),
               F(progress_interval_seconds), F(progress), F(progress_user_data));
#undef S

#define S distill_token_batch
DISTILL_LAYOUT(S, F(tokens), F(labels), F(teacher_logits), F(teacher_topk_ids),
               F(teacher_topk_logprobs));
#undef S

#define S distill_lm_eval_options
DISTILL_LAYOUT(S, F(split), F(batch_windows), F(max_windows), F(teacher));
#undef S

#define S distill_text_fit_options
DISTILL_LAYOUT(S, F(steps), F(batch_windows), F(seed), F(eval_interval), F(eval_windows),
               F(checkpoint_dir), F(teacher), F(progress), F(progress_user_data));
#undef S

// ---- Results the library fills (written: only the caller's prefix) ----

#define S distill_tokenize_summary
DISTILL_LAYOUT(S, F(token_bytes), F(train_documents), F(validation_documents), F(train_tokens),
               F(validation_tokens), F(train_windows), F(validation_windows), F(file_bytes));
#undef S

#define S distill_text_dataset_info
DISTILL_LAYOUT(S, F(context), F(vocab_size), F(eos_id), F(token_bytes), F(train_documents),
               F(validation_documents), F(train_tokens), F(validation_tokens), F(train_windows),
               F(validation_windows), F(tokenizer_sha256));
#undef S

#define S distill_store_stats
DISTILL_LAYOUT(S, F(records), F(failures), F(positions), F(blob_bytes), F(finished_stop),
               F(finished_length), F(finished_content_filter), F(finished_tool_calls),
               F(finished_other), F(finish_not_given), F(other_model));
#undef S

#define S distill_collect_summary
DISTILL_LAYOUT(S, F(requests), F(answered_from_store), F(asked), F(succeeded), F(failed),
               F(prompt_tokens), F(cached_tokens), F(completion_tokens), F(cost_usd),
               F(elapsed_seconds));
#undef S

#define S distill_batch_build_summary
DISTILL_LAYOUT(S, F(requests), F(written), F(already_stored), F(repeated));
#undef S

#define S distill_batch_ingest_summary
DISTILL_LAYOUT(S, F(lines), F(succeeded), F(failed), F(already_stored), F(unknown),
               F(malformed));
#undef S

#define S distill_step_metrics
DISTILL_LAYOUT(S, F(step), F(loss), F(learning_rate), F(grad_norm), F(accuracy), F(agreement));
#undef S

#define S distill_eval_metrics
DISTILL_LAYOUT(S, F(examples), F(accuracy), F(agreement), F(mean_kl), F(ece), F(loss));
#undef S

#define S distill_fit_summary
DISTILL_LAYOUT(S, F(epochs_run), F(stopped_early), F(best_epoch), F(best_val_accuracy), F(steps),
               F(seconds));
#undef S

#define S distill_token_step_metrics
DISTILL_LAYOUT(S, F(step), F(loss), F(learning_rate), F(grad_norm), F(soft_loss), F(hard_loss),
               F(positions));
#undef S

#define S distill_lm_eval_metrics
DISTILL_LAYOUT(S, F(windows), F(positions), F(loss), F(perplexity), F(accuracy), F(agreement),
               F(mean_kl));
#undef S

#define S distill_stored_rows_info
DISTILL_LAYOUT(S, F(rows), F(topk), F(text_only), F(failed), F(empty), F(too_long),
               F(alternatives), F(by_id), F(by_bytes), F(unmapped));
#undef S

#define S distill_text_fit_summary
DISTILL_LAYOUT(S, F(steps_run), F(global_step), F(final_loss), F(validated), F(validation),
               F(seconds));
#undef S

#undef F
#undef DISTILL_LAYOUT
#undef DISTILL_NAME
#undef DISTILL_NAME_OF
#undef DISTILL_FIELD

namespace distill::capi {

// The list is complete and in order: struct_size first at offset 0, each
// field ending after the previous one, and the last one ending (with the
// struct's tail padding) at sizeof(T).
template <class T>
constexpr bool layout_is_whole() {
    using L = versioned_layout<T>;
    if (offsetof(T, struct_size) != 0) return false;
    size_t previous = sizeof(uint32_t);
    size_t align = alignof(uint32_t);
    for (const field_end & f : L::fields) {
        if (f.end <= previous) return false;
        previous = f.end;
        if (f.align > align) align = f.align;
    }
    return (previous + align - 1) / align * align == sizeof(T) && align == alignof(T);
}

#define DISTILL_CHECK_LAYOUT(T) \
    static_assert(layout_is_whole<T>(), "versioned_layouts.h: the field list of " #T \
                                        " does not match distill.h")
DISTILL_CHECK_LAYOUT(distill_context_options);
DISTILL_CHECK_LAYOUT(distill_kd_loss_options);
DISTILL_CHECK_LAYOUT(distill_store_options);
DISTILL_CHECK_LAYOUT(distill_callback_teacher_options);
DISTILL_CHECK_LAYOUT(distill_http_teacher_options);
DISTILL_CHECK_LAYOUT(distill_collect_options);
DISTILL_CHECK_LAYOUT(distill_model_teacher_options);
DISTILL_CHECK_LAYOUT(distill_ask_options);
DISTILL_CHECK_LAYOUT(distill_trainer_options);
DISTILL_CHECK_LAYOUT(distill_batch);
DISTILL_CHECK_LAYOUT(distill_fit_options);
DISTILL_CHECK_LAYOUT(distill_tokenizer_train_options);
DISTILL_CHECK_LAYOUT(distill_tokenize_options);
DISTILL_CHECK_LAYOUT(distill_tokenize_summary);
DISTILL_CHECK_LAYOUT(distill_token_batch);
DISTILL_CHECK_LAYOUT(distill_lm_eval_options);
DISTILL_CHECK_LAYOUT(distill_text_fit_options);
DISTILL_CHECK_LAYOUT(distill_token_step_metrics);
DISTILL_CHECK_LAYOUT(distill_lm_eval_metrics);
DISTILL_CHECK_LAYOUT(distill_text_fit_summary);
DISTILL_CHECK_LAYOUT(distill_stored_rows_info);
DISTILL_CHECK_LAYOUT(distill_text_dataset_info);
DISTILL_CHECK_LAYOUT(distill_store_stats);
DISTILL_CHECK_LAYOUT(distill_collect_summary);
DISTILL_CHECK_LAYOUT(distill_batch_build_summary);
DISTILL_CHECK_LAYOUT(distill_batch_ingest_summary);
DISTILL_CHECK_LAYOUT(distill_step_metrics);
DISTILL_CHECK_LAYOUT(distill_eval_metrics);
DISTILL_CHECK_LAYOUT(distill_fit_summary);
#undef DISTILL_CHECK_LAYOUT

}  // namespace distill::capi
