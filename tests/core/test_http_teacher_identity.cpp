// What keys an HTTP teacher's answers: server, model and request, not the
// dialect they are read in; answers an older distill filed under a key that
// held the dialect are found and filed again, not asked again.
#include <doctest/doctest.h>

#include "jobs/batch_api.h"
#include "jobs/cached_query.h"
#include "store/store.h"
#include "teachers/http_teacher.h"
#include "teachers/request_key.h"
#include "temp_dir.h"

namespace {

distill::http_teacher teacher_for(distill::http_dialect dialect) {
    distill::http_teacher_settings settings;
    settings.base_url = "http://127.0.0.1:9/v1";  // nothing is asked
    settings.model = "m";
    settings.dialect = dialect;
    return distill::http_teacher(settings);
}

const nlohmann::json request = {{"prompt", "2+2="}, {"max_tokens", 1}};

}  // namespace

TEST_CASE("http teacher: the dialect is not part of the key") {
    const distill::http_teacher automatic = teacher_for(distill::http_dialect::auto_detect);
    const distill::http_teacher llama = teacher_for(distill::http_dialect::llama_cpp);
    CHECK(distill::request_key(automatic, request) == distill::request_key(llama, request));
    CHECK_FALSE(automatic.identity().contains("dialect"));
    CHECK(distill::request_key(automatic, request) !=
          distill::request_key(automatic, {{"prompt", "2+2="}}));
}

TEST_CASE("http teacher: an answer stored under an old key (with the dialect) is found once") {
    test::temp_dir dir;
    distill::store s(dir.file("old.db").string(), false, 1000);
    distill::http_teacher llama = teacher_for(distill::http_dialect::llama_cpp);
    // As an older distill filed it: the identity held the dialect asked for.
    nlohmann::json old_identity = llama.identity();
    old_identity["dialect"] = "auto";
    distill::teacher_record old;
    old.key = distill::request_key(old_identity, request, llama.parameters());
    old.text = "4";
    old.origin.teacher_json = distill::canonical_json(old_identity);
    s.put(old);

    const std::string key = distill::request_key(llama, request);
    REQUIRE_FALSE(s.get(key).has_value());
    const std::optional<distill::teacher_record> found =
        distill::stored_success(llama, s, request, true);
    REQUIRE(found.has_value());
    CHECK(found->text == "4");
    CHECK(found->key == key);
    // Filed again under the current key, with the current identity.
    const std::optional<distill::teacher_record> refiled = s.get(key);
    REQUIRE(refiled.has_value());
    CHECK(refiled->text == "4");
    CHECK(refiled->origin.teacher_json == distill::canonical_json(llama.identity()));

    // A stored failure under an old key is not an answer.
    distill::teacher_record failed;
    const nlohmann::json other = {{"prompt", "3+3="}};
    failed.key = distill::request_key(old_identity, other, llama.parameters());
    failed.error_status = 4;
    failed.error_message = "boom";
    s.put(failed);
    CHECK_FALSE(distill::stored_success(llama, s, other, true).has_value());
}

TEST_CASE("batch build: an answer under an old key is left out, the store untouched") {
    test::temp_dir dir;
    const std::string path = dir.file("old.db").string();
    distill::http_teacher openai = teacher_for(distill::http_dialect::openai);
    nlohmann::json old_identity = openai.identity();
    old_identity["dialect"] = "openai";
    {
        distill::store s(path, false, 1000);
        distill::teacher_record old;
        old.key = distill::request_key(old_identity, request, openai.parameters());
        old.text = "4";
        s.put(old);
    }
    distill::store s(path, true, 1000);
    REQUIRE(s.get(distill::request_key(old_identity, request, openai.parameters())).has_value());
    REQUIRE(distill::stored_success(openai, s, request, false).has_value());
    const distill::batch_build_summary built = distill::write_batch_input(
        openai, &s, {request, {{"prompt", "new"}}}, "", dir.file("in.jsonl").string());
    CHECK(built.already_stored == 1);
    CHECK(built.written == 1);
    CHECK_FALSE(s.get(distill::request_key(openai, request)).has_value());  // read only
}
