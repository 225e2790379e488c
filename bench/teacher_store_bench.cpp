// The store's compactness and speed on answers shaped like real chat
// answers at top-k 20: bytes stored per generated token (the SQLite file
// after a VACUUM, provenance and text included, divided by positions)
// against the bytes of the OpenAI JSON that carried the same answers, and
// put / get rates through the C ABI. One JSON line per mode on stdout:
// "openai" (token texts, no ids, as OpenAI answers) and "vllm" (the same
// with token ids, as vLLM and llama.cpp answer).
//
//   distill_bench_teacher_store [RECORDS] [POSITIONS]
//
// The answers are synthetic but shaped like the real thing: token texts
// drawn from a Zipf-distributed vocabulary of word pieces, twenty distinct
// alternatives per position with decreasing, full-precision log-probabilities,
// the chosen token mostly the most likely one.
#include <distill/distill.hpp>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int top_k = 20;
constexpr int vocabulary_size = 16000;

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

// Word pieces such as " the", "ing", " Stra": syllables, some with a leading
// space, as BPE vocabularies look.
std::vector<std::string> make_vocabulary(std::mt19937_64 & rng) {
    static const char * onsets[] = {"",  "b", "c", "d", "f", "g", "h",  "k",  "l",  "m",  "n",
                                    "p", "r", "s", "t", "v", "w", "st", "th", "ch", "pr", "tr"};
    static const char * nuclei[] = {"a", "e", "i", "o", "u", "ea", "ou", "io", "ai"};
    static const char * codas[] = {"", "n", "r", "s", "t", "ng", "ll", "nd", "st", "ed", "ing"};
    std::vector<std::string> vocabulary;
    std::uniform_int_distribution<int> syllables(1, 3), coin(0, 1);
    while (vocabulary.size() < size_t(vocabulary_size)) {
        std::string piece = coin(rng) ? " " : "";
        for (int s = syllables(rng); s > 0; --s) {
            piece += onsets[rng() % std::size(onsets)];
            piece += nuclei[rng() % std::size(nuclei)];
            piece += codas[rng() % std::size(codas)];
        }
        if (coin(rng) && coin(rng)) piece[piece[0] == ' ' ? 1 : 0] ^= 0x20;  // capitalised
        vocabulary.push_back(piece);
    }
    return vocabulary;
}

// Zipf(1) over the vocabulary: a few pieces are everywhere, most are rare.
class zipf_sampler {
public:
    explicit zipf_sampler(size_t n) : cdf_(n) {
        double sum = 0;
        for (size_t i = 0; i < n; ++i) cdf_[i] = sum += 1.0 / double(i + 1);
        for (double & c : cdf_) c /= sum;
    }
    int32_t operator()(std::mt19937_64 & rng) {
        const double u = std::uniform_real_distribution<double>(0, 1)(rng);
        return int32_t(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
    }

private:
    std::vector<double> cdf_;
};

struct alternative {
    int32_t id;
    double logprob;
};

struct position {
    int32_t chosen;  // index into top
    std::vector<alternative> top;
};

std::vector<position> make_answer(std::mt19937_64 & rng, zipf_sampler & zipf, int positions) {
    std::vector<position> answer(static_cast<size_t>(positions));
    std::exponential_distribution<double> first(2.0), gap(0.6);
    std::uniform_real_distribution<double> u(0, 1);
    for (position & p : answer) {
        double logprob = -first(rng) * 0.5;
        while (p.top.size() < size_t(top_k)) {
            const int32_t id = zipf(rng);
            if (std::any_of(p.top.begin(), p.top.end(),
                            [&](const alternative & a) { return a.id == id; }))
                continue;
            p.top.push_back({id, logprob});
            logprob -= gap(rng) * (p.top.size() < 3 ? 2.0 : 0.4);
        }
        const double pick = u(rng);
        p.chosen = pick < 0.8 ? 0 : pick < 0.95 ? 1 : 2;
    }
    return answer;
}

// The OpenAI chat completion that would have carried the answer.
nlohmann::json openai_json(const std::vector<position> & answer,
                           const std::vector<std::string> & vocabulary) {
    auto bytes_of = [](const std::string & s) {
        nlohmann::json b = nlohmann::json::array();
        for (unsigned char c : s) b.push_back(int(c));
        return b;
    };
    nlohmann::json content = nlohmann::json::array();
    std::string text;
    for (const position & p : answer) {
        nlohmann::json top = nlohmann::json::array();
        for (const alternative & a : p.top)
            top.push_back({{"token", vocabulary[size_t(a.id)]},
                           {"logprob", a.logprob},
                           {"bytes", bytes_of(vocabulary[size_t(a.id)])}});
        const alternative & c = p.top[size_t(p.chosen)];
        const std::string & token = vocabulary[size_t(c.id)];
        text += token;
        content.push_back({{"token", token},
                           {"logprob", c.logprob},
                           {"bytes", bytes_of(token)},
                           {"top_logprobs", top}});
    }
    return {{"id", "chatcmpl-AbCdEfGhIjKlMnOpQrStUvWxYz012"},
            {"object", "chat.completion"},
            {"created", 1764370000},
            {"model", "gpt-4o-mini-2024-07-18"},
            {"system_fingerprint", "fp_0ba0d124f1"},
            {"choices",
             {{{"index", 0},
               {"message", {{"role", "assistant"}, {"content", text}, {"refusal", nullptr}}},
               {"logprobs", {{"content", content}, {"refusal", nullptr}}},
               {"finish_reason", "length"}}}},
            {"usage", {{"prompt_tokens", 41}, {"completion_tokens", answer.size()}}}};
}

std::string random_hex(std::mt19937_64 & rng, int digits) {
    static const char hex[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < digits; ++i) s += hex[rng() % 16];
    return s;
}

// The record as the HTTP teacher stores it: text, positions, provenance.
distill::TeacherRecord make_record(const std::vector<position> & answer,
                                   const std::vector<std::string> & vocabulary, bool with_ids,
                                   int index, const std::string & key, std::mt19937_64 & rng) {
    distill::TeacherRecord r;
    r.set_string(DISTILL_RECORD_KEY, key);
    std::string text;
    for (const position & p : answer) {
        int32_t ids[top_k];
        float logprobs[top_k];
        const char * tokens[top_k];
        for (int i = 0; i < top_k; ++i) {
            ids[i] = with_ids ? p.top[size_t(i)].id : -1;
            logprobs[i] = float(p.top[size_t(i)].logprob);
            tokens[i] = vocabulary[size_t(p.top[size_t(i)].id)].c_str();
        }
        const alternative & c = p.top[size_t(p.chosen)];
        const std::string & token = vocabulary[size_t(c.id)];
        text += token;
        distill::check(distill_teacher_record_append_position(
            r.get(), token.c_str(), nullptr, 0, with_ids ? c.id : -1, float(c.logprob), top_k, ids,
            tokens, logprobs));
    }
    r.set_string(DISTILL_RECORD_TEXT, text);
    r.set_string(DISTILL_RECORD_PROVIDER, "openai");
    r.set_string(DISTILL_RECORD_ENDPOINT, "https://api.openai.com/v1/chat/completions");
    r.set_string(DISTILL_RECORD_MODEL, "gpt-4o-mini-2024-07-18");
    r.set_string(DISTILL_RECORD_SYSTEM_FINGERPRINT, "fp_0ba0d124f1");
    r.set_string(DISTILL_RECORD_REQUEST_ID, "req_" + random_hex(rng, 32));
    r.set_string(DISTILL_RECORD_TEACHER_JSON,
                 R"({"base_url":"https://api.openai.com/v1","dialect":"openai","kind":"http",)"
                 R"("model":"gpt-4o-mini"})");
    r.set_string(DISTILL_RECORD_REQUEST_JSON,
                 nlohmann::json{{"id", "q-" + std::to_string(index)},
                                {"logprobs", true},
                                {"max_tokens", answer.size()},
                                {"messages",
                                 {{{"role", "user"},
                                   {"content", "Explain, in a few paragraphs, question number " +
                                                   std::to_string(index) +
                                                   " of the physics exam: why is the sky blue?"}}}},
                                {"top_logprobs", top_k}}
                     .dump());
    r.set_string(DISTILL_RECORD_PARAMETERS_JSON, "null");
    r.set_integer(DISTILL_RECORD_PROMPT_TOKENS, 41);
    r.set_integer(DISTILL_RECORD_COMPLETION_TOKENS, int64_t(answer.size()));
    r.set_integer(DISTILL_RECORD_STARTED_AT_MS, 1764370000000 + index * 37);
    r.set_integer(DISTILL_RECORD_FINISHED_AT_MS, 1764370000000 + index * 37 + 2400);
    r.set_integer(DISTILL_RECORD_LATENCY_US, 2400000 + int64_t(rng() % 100000));
    r.set_integer(DISTILL_RECORD_ATTEMPTS, 1);
    r.set_integer(DISTILL_RECORD_LOGPROBS_KIND, DISTILL_LOGPROBS_POST_SAMPLING);
    return r;
}

void vacuum(const std::string & path) {
    sqlite3 * db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK ||
        sqlite3_exec(db, "VACUUM", nullptr, nullptr, nullptr) != SQLITE_OK) {
        std::fprintf(stderr, "VACUUM of %s failed: %s\n", path.c_str(), sqlite3_errmsg(db));
        std::exit(1);
    }
    sqlite3_close(db);
}

void run(const char * mode, bool with_ids, int records, int positions,
         const std::filesystem::path & dir) {
    std::mt19937_64 rng(42);  // the same answers in every run and mode
    const std::vector<std::string> vocabulary = make_vocabulary(rng);
    zipf_sampler zipf(vocabulary.size());

    std::vector<distill::TeacherRecord> batch;
    std::vector<std::string> keys;
    size_t json_bytes = 0;
    for (int i = 0; i < records; ++i) {
        const std::vector<position> answer = make_answer(rng, zipf, positions);
        json_bytes += openai_json(answer, vocabulary).dump().size();
        keys.push_back(random_hex(rng, 64));
        batch.push_back(make_record(answer, vocabulary, with_ids, i, keys.back(), rng));
    }

    const std::string path = (dir / (std::string(mode) + ".db")).string();
    std::filesystem::remove(path);
    double put_seconds = 0, get_seconds = 0;
    {
        distill::Store store(path);
        const auto start = clock_type::now();
        for (const distill::TeacherRecord & r : batch) store.put(r);
        put_seconds = seconds_since(start);
    }
    {
        distill::Store store(path, true);
        const auto start = clock_type::now();
        for (const std::string & key : keys)
            if (!store.get(key)) {
                std::fprintf(stderr, "key %s not found\n", key.c_str());
                std::exit(1);
            }
        get_seconds = seconds_since(start);
    }
    vacuum(path);
    const double tokens = double(records) * positions;
    const auto file_bytes = std::filesystem::file_size(path);
    distill_store_stats stats = distill::Store(path, true).stats();
    std::printf("%s\n", nlohmann::json{{"bench", "teacher_store"},
                                       {"mode", mode},
                                       {"records", records},
                                       {"positions_per_record", positions},
                                       {"top_k", top_k},
                                       {"file_bytes", file_bytes},
                                       {"bytes_per_token", double(file_bytes) / tokens},
                                       {"blob_bytes_per_token", double(stats.blob_bytes) / tokens},
                                       {"json_bytes_per_token", double(json_bytes) / tokens},
                                       {"json_to_store_ratio", double(json_bytes) / file_bytes},
                                       {"puts_per_second", records / put_seconds},
                                       {"gets_per_second", records / get_seconds}}
                            .dump()
                            .c_str());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char ** argv) {
    const int records = argc > 1 ? std::atoi(argv[1]) : 400;
    const int positions = argc > 2 ? std::atoi(argv[2]) : 256;
    if (records <= 0 || positions <= 0) {
        std::fprintf(stderr, "usage: distill_bench_teacher_store [RECORDS] [POSITIONS]\n");
        return 2;
    }
    const auto dir = std::filesystem::temp_directory_path() / "distill-bench-teacher-store";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    run("openai", false, records, positions, dir);
    run("vllm", true, records, positions, dir);
    std::filesystem::remove_all(dir);
    return 0;
}
