// store::scan: every row's provenance in insertion order, and the whole
// record decoded only for the rows a reader keeps.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/store.h"
#include "teachers/request_key.h"
#include "temp_dir.h"

namespace {

// A record as a teacher would file it: key from teacher, request, parameters.
distill::teacher_record answer(const std::string & teacher, const std::string & request,
                               int32_t top_id) {
    distill::teacher_record r;
    const nlohmann::json t = {{"kind", "callback"}, {"name", teacher}};
    const nlohmann::json q = {{"prompt", request}};
    const nlohmann::json p = {{"temperature", 1.0}};
    r.key = distill::request_key(t, q, p);
    r.origin.teacher_json = distill::canonical_json(t);
    r.origin.request_json = distill::canonical_json(q);
    r.origin.parameters_json = distill::canonical_json(p);
    distill::token_position position;
    position.token = "x";
    position.top.push_back({top_id, std::to_string(top_id), -0.5f});
    r.positions.push_back(position);
    return r;
}

}  // namespace

TEST_CASE("store scan: summaries of every row in insertion order, decode on demand") {
    const test::temp_dir scratch("distill-core-store-scan");
    distill::store s(scratch.file("scan.db").string(), false, 1000);
    s.put(answer("a", "one", 3));
    s.put_many(std::vector{answer("b", "one", 4), answer("a", "two", 5)});

    std::vector<std::string> seen;
    std::vector<int32_t> decoded_ids;
    s.scan([&](const distill::record_summary & row,
               const std::function<distill::teacher_record()> & decode) {
        seen.push_back(row.teacher_json + " " + row.request_json + " " + row.parameters_json);
        if (row.teacher_json.find("\"a\"") != std::string::npos)
            decoded_ids.push_back(decode().positions.at(0).top.at(0).id);
    });
    CHECK(seen == std::vector<std::string>{
                      R"({"kind":"callback","name":"a"} {"prompt":"one"} {"temperature":1.0})",
                      R"({"kind":"callback","name":"b"} {"prompt":"one"} {"temperature":1.0})",
                      R"({"kind":"callback","name":"a"} {"prompt":"two"} {"temperature":1.0})"});
    CHECK(decoded_ids == std::vector<int32_t>{3, 5});

    // The lock and the read transaction end with the scan, even on a throw.
    CHECK_THROWS_AS(s.scan([](const distill::record_summary &,
                              const std::function<distill::teacher_record()> &) {
        throw std::runtime_error("stop");
    }),
                    std::runtime_error);
    s.put(answer("c", "three", 6));
    CHECK(s.stats().records == 4);
}
