// distill_dataset_*: in-memory examples with labels and teacher targets,
// asking a teacher about them (distill_dataset_ask_teacher) and reading its
// answers from a store without it (distill_dataset_read_teacher).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "api_guard.h"
#include "data/fashion_mnist.h"
#include "data/idx_dataset.h"
#include "store_handle.h"
#include "student_handles.h"
#include "teacher_handle.h"
#include "tensor/tensor_checks.h"
#include "teachers/request_key.h"
#include "train/host_tensor.h"
#include "train/stored_targets.h"
#include "train/teacher_targets.h"
#include "versioned_struct.h"

void distill_dataset::refresh_shapes() {
    input_shape[0] = examples.rows;
    input_shape[1] = examples.features;
    label_shape[0] = examples.rows;
    logit_shape[0] = examples.rows;
    logit_shape[1] = examples.teacher_classes;
    topk_shape[0] = examples.rows;
    topk_shape[1] = examples.teacher_k;
}

namespace distill::capi {
distill::example_set & unwrap(distill_dataset * dataset) {
    require_pointer(dataset, "dataset", "a dataset from distill_dataset_create or _load_*");
    return dataset->examples;
}
const distill::example_set & unwrap(const distill_dataset * dataset) {
    require_pointer(dataset, "dataset", "a dataset from distill_dataset_create or _load_*");
    return dataset->examples;
}
}  // namespace distill::capi

using distill::capi::guarded;
using distill::capi::require_pointer;
using distill::capi::unwrap;

namespace {

distill_dataset * adopt(distill::example_set examples) {
    auto handle = std::make_unique<distill_dataset>();
    handle->examples = std::move(examples);
    handle->refresh_shapes();
    return handle.release();
}

distill::example_set from_labelled_images(distill::labelled_images images) {
    distill::example_set set;
    set.rows = images.count;
    set.features = images.features();
    set.inputs = std::move(images.images);
    set.labels = std::move(images.labels);
    return set;
}

// Teacher top-k ids as int32, from an int32 or int64 [N, K] tensor.
std::vector<int32_t> read_ids(const DLTensor & ids, int64_t count) {
    std::vector<int32_t> out(static_cast<size_t>(count));
    const void * data = distill::data_pointer(ids);
    for (int64_t i = 0; i < count; ++i) {
        const int64_t id = ids.dtype.bits == 64 ? static_cast<const int64_t *>(data)[i]
                                                : static_cast<const int32_t *>(data)[i];
        if (id < 0 || id > INT32_MAX)
            distill::fail_invalid("ids: expected class ids in [0, 2^31), got " +
                                  std::to_string(id) + " at flat index " + std::to_string(i));
        out[size_t(i)] = int32_t(id);
    }
    return out;
}

// The teacher's answers become the dataset's targets, replacing dense ones.
void set_topk_targets(distill_dataset & dataset, distill::topk_targets targets) {
    distill::example_set & set = dataset.examples;
    set.teacher_k = targets.k;
    set.teacher_topk_ids = std::move(targets.ids);
    set.teacher_topk_logprobs = std::move(targets.logprobs);
    set.teacher_logits.clear();
    set.teacher_classes = 0;
    dataset.refresh_shapes();
}

}  // namespace

extern "C" {

distill_status distill_dataset_create(const DLTensor * inputs, const DLTensor * labels,
                                      distill_dataset ** out) {
    return guarded([&] {
        require_pointer(out, "out", "a place for the new dataset");
        int64_t rows = 0, features = 0;
        const float * x = distill::require_host_matrix(inputs, "inputs", -1, &rows, &features);
        distill::example_set set;
        set.rows = rows;
        set.features = features;
        set.inputs.assign(x, x + rows * features);
        if (labels) {
            const int64_t * y = distill::require_host_labels(labels, "labels", rows);
            for (int64_t i = 0; i < rows; ++i)
                if (y[i] < 0)
                    distill::fail_invalid("labels: expected class indices ≥ 0, got " +
                                          std::to_string(y[i]) + " at row " + std::to_string(i));
            set.labels.assign(y, y + rows);
        }
        *out = adopt(std::move(set));
    });
}

distill_status distill_dataset_load_idx(const char * images_path, const char * labels_path,
                                        int64_t limit, distill_dataset ** out) {
    return guarded([&] {
        require_pointer(images_path, "images_path", "an IDX image file");
        require_pointer(labels_path, "labels_path", "an IDX label file");
        require_pointer(out, "out", "a place for the new dataset");
        std::optional<int64_t> bound;
        if (limit > 0) bound = limit;
        *out =
            adopt(from_labelled_images(distill::load_idx_dataset(images_path, labels_path, bound)));
    });
}

distill_status distill_dataset_load_fashion_mnist(const char * split, const char * directory,
                                                  int64_t limit, distill_dataset ** out) {
    return guarded([&] {
        require_pointer(split, "split", "\"train\" or \"test\"");
        require_pointer(out, "out", "a place for the new dataset");
        const std::string which = split;
        if (which != "train" && which != "test")
            distill::fail_invalid("split: expected \"train\" or \"test\", got \"" + which + "\"");
        const distill::fashion_mnist_paths paths = directory
                                                       ? distill::locate_fashion_mnist_in(directory)
                                                       : distill::locate_fashion_mnist();
        std::optional<int64_t> bound;
        if (limit > 0) bound = limit;
        *out = adopt(from_labelled_images(
            which == "train"
                ? distill::load_idx_dataset(paths.train_images, paths.train_labels, bound)
                : distill::load_idx_dataset(paths.test_images, paths.test_labels, bound)));
    });
}

distill_status distill_dataset_slice(const distill_dataset * dataset, int64_t begin, int64_t count,
                                     distill_dataset ** out) {
    return guarded([&] {
        const distill::example_set & set = unwrap(dataset);
        require_pointer(out, "out", "a place for the new dataset");
        if (begin < 0 || count < 0 || begin > set.rows || count > set.rows - begin)
            distill::fail_invalid("begin, count: expected a range within [0, " +
                                  std::to_string(set.rows) + "], got begin " +
                                  std::to_string(begin) + ", count " + std::to_string(count));
        *out = adopt(distill::slice_examples(set, begin, count));
    });
}

void distill_dataset_free(distill_dataset * dataset) { delete dataset; }

distill_status distill_dataset_size(const distill_dataset * dataset, int64_t * out_rows,
                                    int64_t * out_features) {
    return guarded([&] {
        const distill::example_set & set = unwrap(dataset);
        if (out_rows) *out_rows = set.rows;
        if (out_features) *out_features = set.features;
    });
}

distill_status distill_dataset_get(const distill_dataset * dataset, int32_t field,
                                   int32_t * out_present, DLTensor * out) {
    return guarded([&] {
        const distill::example_set & set = unwrap(dataset);
        require_pointer(out_present, "out_present", "a place for whether the field exists");
        require_pointer(out, "out", "a DLTensor to fill");
        auto * d = const_cast<distill_dataset *>(dataset);
        auto & s = d->examples;
        DLTensor view{};
        bool present = true;
        switch (field) {
        case DISTILL_DATASET_INPUTS:
            view = distill::host_tensor(s.inputs.data(), d->input_shape, 2);
            break;
        case DISTILL_DATASET_LABELS:
            present = set.has_labels();
            view = distill::host_tensor(s.labels.data(), d->label_shape, 1);
            break;
        case DISTILL_DATASET_TEACHER_LOGITS:
            present = set.has_teacher_logits();
            view = distill::host_tensor(s.teacher_logits.data(), d->logit_shape, 2);
            break;
        case DISTILL_DATASET_TEACHER_TOPK_IDS:
            present = set.has_teacher_topk();
            view = distill::host_tensor(s.teacher_topk_ids.data(), d->topk_shape, 2);
            break;
        case DISTILL_DATASET_TEACHER_TOPK_LOGPROBS:
            present = set.has_teacher_topk();
            view = distill::host_tensor(s.teacher_topk_logprobs.data(), d->topk_shape, 2);
            break;
        default:
            distill::fail_invalid("field: expected a distill_dataset_field (0..4), got " +
                                  std::to_string(field));
        }
        *out_present = present ? 1 : 0;
        if (present) *out = view;
    });
}

distill_status distill_dataset_set_teacher_logits(distill_dataset * dataset,
                                                  const DLTensor * logits) {
    return guarded([&] {
        distill::example_set & set = unwrap(dataset);
        int64_t rows = 0, classes = 0;
        const float * z = distill::require_host_matrix(logits, "logits", -1, &rows, &classes);
        if (rows != set.rows)
            distill::fail_invalid("logits: expected shape [" + std::to_string(set.rows) +
                                  ", C] (the dataset's rows), got " +
                                  distill::shape_string(*logits));
        set.teacher_logits.assign(z, z + rows * classes);
        set.teacher_classes = classes;
        set.teacher_topk_ids.clear();
        set.teacher_topk_logprobs.clear();
        set.teacher_k = 0;
        dataset->refresh_shapes();
    });
}

distill_status distill_dataset_set_teacher_topk(distill_dataset * dataset, const DLTensor * ids,
                                                const DLTensor * logprobs) {
    return guarded([&] {
        distill::example_set & set = unwrap(dataset);
        int64_t rows = 0, k = 0;
        const float * lp = distill::require_host_matrix(logprobs, "logprobs", -1, &rows, &k);
        if (rows != set.rows)
            distill::fail_invalid("logprobs: expected shape [" + std::to_string(set.rows) +
                                  ", K] (the dataset's rows), got " +
                                  distill::shape_string(*logprobs));
        const DLTensor & id_tensor = distill::require_tensor(ids, "ids");
        distill::require_integer(id_tensor, "ids");
        distill::require_shape(id_tensor, "ids", {rows, k},
                               "[N, K] = [" + std::to_string(rows) + ", " + std::to_string(k) +
                                   "] (the shape of logprobs)");
        distill::require_device(id_tensor, "ids", distill::expected_device{false, 0});
        distill::require_contiguous(id_tensor, "ids");
        // Both copies made before the dataset changes (a bad_alloc leaves it whole).
        std::vector<int32_t> id_values = read_ids(id_tensor, rows * k);
        std::vector<float> logprob_values(lp, lp + rows * k);
        set.teacher_topk_ids = std::move(id_values);
        set.teacher_topk_logprobs = std::move(logprob_values);
        set.teacher_k = k;
        set.teacher_logits.clear();
        set.teacher_classes = 0;
        dataset->refresh_shapes();
    });
}

distill_status distill_ask_options_init(distill_ask_options * options) {
    return guarded([&] {
        require_pointer(options, "options", "a distill_ask_options to fill");
        *options = distill_ask_options{};
        options->struct_size = sizeof(distill_ask_options);
        options->batch_size = 256;
    });
}

distill_status distill_dataset_ask_teacher(distill_dataset * dataset, distill_teacher * teacher,
                                           distill_store * store,
                                           const distill_ask_options * options, int64_t * out_asked,
                                           int64_t * out_from_store) {
    return guarded([&] {
        distill::example_set & set = unwrap(dataset);
        require_pointer(teacher, "teacher", "a teacher from distill_teacher_create_*");
        distill_ask_options defaults{};
        distill_ask_options_init(&defaults);
        const distill_ask_options o = distill::capi::read_versioned(options, defaults, "options");
        distill::store * s = store ? &unwrap(store) : nullptr;
        const auto start = std::chrono::steady_clock::now();
        distill::ask_progress progress;
        if (o.progress)
            progress = [&](const distill::ask_counts & counts, int64_t done, int64_t total) {
                distill_progress p{};
                p.struct_size = sizeof p;
                p.event = DISTILL_PROGRESS_ASK;
                p.done = done;
                p.total = total;
                p.loss = p.val_accuracy = p.val_agreement = NAN;
                p.elapsed_seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
                p.asked = counts.asked;
                p.from_store = counts.from_store;
                return o.progress(o.progress_user_data, &p) != DISTILL_STATUS_CANCELLED;
            };
        // A failure or a cancel throws before the dataset changes.
        distill::topk_targets targets =
            distill::ask_teacher_for_targets(set, *teacher->impl, s, o.batch_size, progress);
        const distill::ask_counts counts = targets.counts;
        set_topk_targets(*dataset, std::move(targets));
        if (out_asked) *out_asked = counts.asked;
        if (out_from_store) *out_from_store = counts.from_store;
    });
}

distill_status distill_dataset_read_teacher(distill_dataset * dataset, distill_store * store,
                                            const char * teacher_identity_json,
                                            const char * teacher_parameters_json) {
    return guarded([&] {
        distill::example_set & set = unwrap(dataset);
        distill::store & s = unwrap(store);
        distill::stored_teacher which;
        if (teacher_identity_json)
            which.identity =
                distill::parse_json_argument(teacher_identity_json, "teacher_identity_json");
        if (teacher_parameters_json)
            which.parameters =
                distill::parse_json_argument(teacher_parameters_json, "teacher_parameters_json");
        // A failure throws before the dataset changes.
        distill::topk_targets targets = distill::read_stored_targets(set, s, which);
        set_topk_targets(*dataset, std::move(targets));
    });
}

}  // extern "C"
