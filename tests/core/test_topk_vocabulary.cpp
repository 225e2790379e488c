// Stored top-k alternatives mapped to the student's vocabulary
// (core/train/topk_vocabulary.h): by the server's id, else by the token's
// bytes (added tokens and byte-level BPE tokens); what the student lacks
// goes to the tail as an empty slot and is counted; two alternatives of one
// student token are merged; vocabularies that clearly differ are refused,
// naming both. A teacher's answer becomes a batch row (prompt masked, the
// alternatives at the positions that predict the completion) that a
// distillation step trains on.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "teachers/teacher_record.h"
#include "text/bpe_trainer.h"
#include "lm/transformer.h"
#include "train/completion_targets.h"
#include "train/topk_vocabulary.h"
#include "train/transformer_trainer.h"

using namespace distill;

namespace {

std::unique_ptr<tokenizer::bpe_tokenizer> student_tokenizer() {
    tokenizer::bpe_training_options options;
    options.vocab_size = 300;
    options.special_tokens = {"<|endoftext|>"};
    std::string text;
    for (int i = 0; i < 40; ++i) text += "the cat sat on the mat; the dog sat on the log. ";
    return tokenizer::train_bpe({text}, options);
}

int32_t id_of(const tokenizer::bpe_tokenizer & t, const std::string & text) {
    const std::vector<int32_t> ids = t.encode(text);
    REQUIRE(ids.size() == 1);
    return ids[0];
}

top_logprob alt(std::string token, float logprob, int32_t id = -1) {
    top_logprob a;
    a.token = std::move(token);
    a.logprob = logprob;
    a.id = id;
    return a;
}

std::string refusal(const std::function<void()> & f) {
    try {
        f();
    } catch (const distill::error & e) {
        CHECK(e.code() == status::invalid_argument);
        return e.what();
    }
    FAIL("expected a distill::error");
    return {};
}

}  // namespace

TEST_CASE("topk vocabulary: alternatives map by id or bytes, the unknown go to the tail") {
    const auto tok = student_tokenizer();
    const int32_t the = id_of(*tok, " the"), cat = id_of(*tok, " cat"), eos = id_of(*tok, "<|endoftext|>");
    topk_vocabulary_map map(*tok, "student tokenizer.json", "teacher-7b");
    int32_t ids[6];
    float logprobs[6];
    // OpenAI-style (text only): " the", "<|endoftext|>", an unknown word,
    // " cat"; and a vLLM-style id for " cat" again (merged).
    const std::vector<top_logprob> top = {alt(" the", -0.5f), alt("<|endoftext|>", -1.5f),
                                          alt(" zebra", -2.0f), alt(" cat", -2.5f),
                                          alt("token_id:" + std::to_string(cat), -3.0f, cat)};
    CHECK(map.map(top, 6, ids, logprobs, "position 0") == 3);
    CHECK(ids[0] == the);
    CHECK(ids[1] == eos);
    CHECK(ids[2] == cat);
    CHECK(ids[3] == -1);
    CHECK(ids[5] == -1);
    CHECK(logprobs[0] == -0.5f);
    CHECK(logprobs[2] == doctest::Approx(std::log(std::exp(-2.5) + std::exp(-3.0))).epsilon(1e-6));
    CHECK(std::isinf(logprobs[4]));
    CHECK(map.counts().alternatives == 5);
    CHECK(map.counts().by_bytes == 3);
    CHECK(map.counts().by_id == 1);
    CHECK(map.counts().unmapped == 1);
    CHECK(map.counts().merged == 1);
    CHECK(map.counts().ids_checked == 0);  // "token_id:N" is no text to compare
    CHECK_NOTHROW(map.check());

    // Only the first K are read: the rest's mass stays in the tail.
    CHECK(map.map(top, 2, ids, logprobs, "position 1") == 2);
    CHECK(map.counts().alternatives == 7);

    // A record set: positions one after another, the count of the unmapped.
    teacher_record record;
    record.origin.model = "teacher-7b";
    token_position p;
    p.top = {alt(" sat", -0.2f), alt(" naps", -2.0f)};
    record.positions = {p, p, p};
    const mapped_topk_targets targets =
        map_record_alternatives(std::span(&record, 1), *tok, "student", 3);
    CHECK(targets.positions == 3);
    CHECK(targets.ids.size() == 9);
    CHECK(targets.ids[3] == id_of(*tok, " sat"));
    CHECK(targets.ids[4] == -1);
    CHECK(targets.counts.unmapped == 3);
    CHECK(targets.counts.alternatives == 6);
}

TEST_CASE("topk vocabulary: clearly different vocabularies are refused, naming both") {
    const auto tok = student_tokenizer();
    teacher_record record;
    record.origin.model = "qwen-teacher";
    token_position p;
    p.top = {alt(" the", -0.5f), alt("東京", -1.0f), alt("ünï", -1.5f)};
    record.positions = {p};
    std::string message = refusal([&] {
        map_record_alternatives(std::span(&record, 1), *tok, "student.json", 3);
    });
    CHECK(message.find("'qwen-teacher'") != std::string::npos);
    CHECK(message.find("'student.json'") != std::string::npos);
    CHECK(message.find("2 of 3") != std::string::npos);

    // An id outside the student's vocabulary.
    p.top = {alt(" the", -0.5f, 151900)};
    record.positions = {p};
    message = refusal([&] { map_record_alternatives(std::span(&record, 1), *tok, "student.json", 2); });
    CHECK(message.find("151900") != std::string::npos);
    CHECK(message.find(std::to_string(tok->vocab_size())) != std::string::npos);
    CHECK(message.find("'qwen-teacher'") != std::string::npos);

    // Ids in range that name other tokens than their text.
    const int32_t the = id_of(*tok, " the"), cat = id_of(*tok, " cat");
    p.top = {alt(" the", -0.5f, cat), alt(" cat", -1.0f, the), alt(" sat", -2.0f, id_of(*tok, " sat"))};
    record.positions = {p};
    message = refusal([&] { map_record_alternatives(std::span(&record, 1), *tok, "student.json", 3); });
    CHECK(message.find("2 of 3") != std::string::npos);
    CHECK(message.find("other text") != std::string::npos);

    // A failed record, and a NaN log-probability, by name.
    teacher_record failed;
    failed.error_status = 5;
    failed.error_message = "timeout";
    CHECK(refusal([&] { map_record_alternatives(std::span(&failed, 1), *tok, "s", 2); })
              .find("records[0]") != std::string::npos);
    p.top = {alt(" the", absent_logprob)};
    record.positions = {p};
    CHECK(refusal([&] { map_record_alternatives(std::span(&record, 1), *tok, "s", 2); })
              .find("records[0] position 0 alternative 0") != std::string::npos);
}

TEST_CASE("topk vocabulary: an answer becomes a batch row that a distillation step trains on") {
    const auto tok = student_tokenizer();
    const std::vector<int32_t> prompt = tok->encode("the cat");
    REQUIRE(prompt.size() == 2);
    teacher_record record;
    record.origin.model = "teacher-7b";
    const auto position = [&](const std::string & text, std::vector<top_logprob> top) {
        token_position p;
        p.token = p.bytes = text;
        p.top = std::move(top);
        return p;
    };
    record.positions = {position(" sat", {alt(" sat", -0.1f), alt(" naps", -2.5f), alt(" on", -3.0f)}),
                        position(" on", {alt(" on", -0.2f), alt(" the", -2.0f)}),
                        position(" the", {alt(" the", -0.05f), alt(" rug", -3.5f)})};
    const int64_t B = 2, T = 6, K = 3;
    std::vector<int32_t> tokens(size_t(B * T), 7), labels(size_t(B * T), 7), ids(size_t(B * T * K), 7);
    std::vector<float> logprobs(size_t(B * T * K), 0.0f);
    topk_vocabulary_map map(*tok, "student", "teacher-7b");
    place_completion_targets(record, prompt, map, T, K, 0, 1, tokens.data(), labels.data(),
                             ids.data(), logprobs.data(), "examples[1]");
    const int32_t sat = id_of(*tok, " sat"), on = id_of(*tok, " on"), the = id_of(*tok, " the");
    const std::vector<int32_t> row_tokens(tokens.begin() + T, tokens.end());
    const std::vector<int32_t> row_labels(labels.begin() + T, labels.end());
    CHECK(row_tokens == std::vector<int32_t>{prompt[0], prompt[1], sat, on, 0, 0});
    CHECK(row_labels == std::vector<int32_t>{-100, sat, on, the, -100, -100});
    CHECK(tokens[0] == 7);  // row 0 untouched
    const int32_t * at1 = ids.data() + (T + 1) * K;  // row 1, position 1 predicts " sat"
    CHECK(at1[0] == sat);
    CHECK(at1[1] == on);  // " naps" is not a student token: tail
    CHECK(at1[2] == -1);
    CHECK(ids[size_t((T + 0) * K)] == -1);  // the prompt position predicts nothing
    CHECK(ids[size_t((T + 4) * K)] == -1);
    CHECK(map.counts().unmapped == 2);  // " naps", " rug"
    CHECK_NOTHROW(map.check());

    // Row 0 from the same answer, then a step of a student of this vocabulary.
    place_completion_targets(record, prompt, map, T, K, 0, 0, tokens.data(), labels.data(),
                             ids.data(), logprobs.data(), "examples[0]");
    lm::transformer_config config;
    config.vocab = tok->vocab_size();
    config.dim = 16;
    config.layers = 1;
    config.heads = 2;
    config.kv_heads = 1;
    config.ffn = 24;
    config.context = 8;
    transformer_trainer_settings settings;
    settings.loss.tail = 1;  // BUCKET: the unmapped mass is the tail
    settings.loss.hard_weight = 0.5f;
    transformer_trainer trainer(std::make_shared<lm::transformer>(config, 3), settings);
    token_teacher_targets targets;
    targets.topk_ids = ids.data();
    targets.topk_logprobs = logprobs.data();
    targets.topk = K;
    const transformer_step_outcome first = trainer.step(tokens.data(), labels.data(), B, T, targets);
    CHECK(first.positions == 6);
    CHECK(std::isfinite(first.loss));
    CHECK(first.soft_loss > 0.0);
    transformer_step_outcome last = first;
    for (int i = 0; i < 10; ++i) last = trainer.step(tokens.data(), labels.data(), B, T, targets);
    CHECK(last.soft_loss < first.soft_loss);

    // Too long for the batch, and a completion token the student lacks.
    CHECK(refusal([&] {
              place_completion_targets(record, prompt, map, 3, K, 0, 0, tokens.data(),
                                       labels.data(), ids.data(), logprobs.data(), "examples[0]");
          }).find("need 4 positions, the batch has 3") != std::string::npos);
    record.positions[1] = position(" zebra", {alt(" zebra", -0.1f)});
    const std::string message = refusal([&] {
        place_completion_targets(record, prompt, map, T, K, 0, 0, tokens.data(), labels.data(),
                                 ids.data(), logprobs.data(), "examples[0]");
    });
    CHECK(message.find("examples[0] position 1 (' zebra')") != std::string::npos);
    CHECK(message.find("'teacher-7b'") != std::string::npos);
}
