// Each way a safetensors file can be wrong, refused with a message that names
// the file, what was expected and what was found.
#include <doctest/doctest.h>

#include "common/error.h"
#include "train/safetensors.h"

#include <string>

namespace {

// A file: the 8-byte little-endian size of `header`, the header, the data.
std::string make_file(const std::string & header, const std::string & data = "") {
    std::string file;
    const uint64_t size = header.size();
    for (int i = 0; i < 8; ++i) file.push_back(char((size >> (8 * i)) & 0xff));
    return file + header + data;
}

std::string refusal(const std::string & bytes) {
    try {
        distill::safetensors_file::from_bytes(bytes, "bad.safetensors");
    } catch (const distill::error & e) {
        CHECK(e.code() == distill::status::corrupt_file);
        return e.what();
    }
    return "accepted";
}

const std::string prefix = "safetensors file 'bad.safetensors': ";

}  // namespace

TEST_CASE("well-formed minimal files are accepted") {
    CHECK(refusal(make_file("{}")) == "accepted");
    CHECK(refusal(make_file("{}      ")) == "accepted");  // space padding
    CHECK(refusal(make_file(R"({"__metadata__":{"a":"b"}})")) == "accepted");
    CHECK(refusal(make_file(R"({"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "ab")) ==
          "accepted");
    // Zero-size tensors may share an offset.
    CHECK(refusal(make_file(R"({"e":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},)"
                            R"("f":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}})")) ==
          "accepted");
}

TEST_CASE("safetensors: the size prefix and the header's JSON") {
    CHECK(refusal("1234567") ==
          prefix + "expected at least 8 bytes (the header size), got 7 bytes");
    CHECK(refusal(make_file("{}").substr(0, 9)) ==
          prefix +
              "expected a header of at most the 1 bytes after the size prefix, got a "
              "header size of 2 (file truncated?)");
    std::string huge = make_file("{}");
    huge[3] = 0x7f;  // 0x7f000002 bytes
    CHECK(refusal(huge) == prefix +
                               "expected a header of at most 100000000 bytes, got a header "
                               "size of 2130706434");
    CHECK(refusal(make_file("{\"a\":")).find(prefix + "expected a JSON header, got invalid JSON") ==
          0);
    CHECK(refusal(make_file("{} x")).find("invalid JSON") != std::string::npos);
    // A number beyond double's range (found by the fuzzer).
    CHECK(refusal(make_file(R"({"a":{"shape":[1e4467]}})"))
              .find(prefix + "expected a JSON header, got invalid JSON") == 0);
    CHECK(refusal(make_file("[1, 2]")) == prefix + "expected a JSON object header, got array");
    CHECK(refusal(make_file(R"({"a":[[[[1]]]]})")) ==
          prefix +
              "expected header nesting of at most 3 levels (object, entry, shape), got "
              "deeper nesting under 'a'");
}

TEST_CASE("safetensors: entries with missing or wrongly typed fields") {
    CHECK(refusal(make_file(R"({"w":5})")) ==
          prefix + "entry 'w': expected an object {dtype, shape, data_offsets}, got number");
    CHECK(refusal(make_file(R"({"w":{"dtype":"F32","shape":[1]}})")) ==
          prefix + "entry 'w': expected a 'data_offsets' field");
    CHECK(refusal(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}})",
                            "abcd")) ==
          prefix + "entry 'w': expected only the keys dtype, shape, data_offsets, got 'x'");
    CHECK(refusal(make_file(R"({"w":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", "abcd")) ==
          prefix + "entry 'w': expected dtype to be a string, got number");
    CHECK(
        refusal(make_file(R"({"w":{"dtype":"F128","shape":[1],"data_offsets":[0,4]}})", "abcd")) ==
        prefix +
            "entry 'w': expected a dtype among BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, "
            "F16, BF16, I32, U32, F32, I64, U64, F64, got 'F128'");
    CHECK(refusal(make_file(R"({"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", "abcd")) ==
          prefix + "entry 'w': expected shape to be an array, got string");
    CHECK(
        refusal(make_file(R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", "abcd")) ==
        prefix + "entry 'w': expected shape to hold integers below 2^63, got [1.5]");
    CHECK(
        refusal(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}})", "abcd")) ==
        prefix + "entry 'w': expected data_offsets of non-negative integers, got \"4\"");
    CHECK(
        refusal(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}})", "abcd")) ==
        prefix + "entry 'w': expected data_offsets to be [begin, end], got [0,4,8]");
    CHECK(refusal(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                            R"("__metadata__":{"k":1}})",
                            "abcd")) ==
          prefix + "__metadata__ 'k': expected a string value, got number");
    CHECK(refusal(make_file(R"({"__metadata__":["k"]})")) ==
          prefix + "expected __metadata__ to be an object of strings, got array");
}

TEST_CASE("safetensors: shapes and sizes") {
    CHECK(
        refusal(make_file(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "abcd")) ==
        prefix + "entry 'w': expected non-negative dimensions, got shape [-1]");
    CHECK(refusal(make_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],)"
                            R"("data_offsets":[0,4]}})",
                            "abcd")) ==
          prefix +
              "entry 'w': expected a shape whose element count fits in 63 bits, got "
              "[4294967296, 4294967296]");
    // 2^62 elements of 8 bytes: the count fits, its byte size does not.
    CHECK(refusal(make_file(R"({"w":{"dtype":"F64","shape":[4611686018427387904],)"
                            R"("data_offsets":[0,4]}})",
                            "abcd"))
              .find(prefix + "entry 'w': expected 4611686018427387904 elements × 8 bytes") == 0);
    CHECK(refusal(make_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "abcd")) ==
          prefix +
              "entry 'w': expected 2 elements × 4 bytes (F32, shape [2]) between "
              "data_offsets, got 4 bytes");
    CHECK(refusal(make_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", "abcd")) ==
          prefix + "entry 'w': expected data_offsets [begin, end] with begin <= end, got [4,0]");
}

TEST_CASE("safetensors: offsets that overlap, leave gaps or run past the file") {
    const std::string two = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)";
    CHECK(refusal(
              make_file(two + R"("b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})", "abc")) ==
          prefix +
              "entry 'b': expected data_offsets starting at 2 (after tensor 'a'), got 1 "
              "(overlapping tensors)");
    CHECK(refusal(make_file(two + R"("b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}})",
                            "abcde")) ==
          prefix +
              "entry 'b': expected data_offsets starting at 2 (after tensor 'a'), got 3 "
              "(a gap in the data buffer)");
    CHECK(refusal(make_file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})", "abc")) ==
          prefix +
              "entry 'a': expected data_offsets starting at 0 (after the start of the data "
              "buffer), got 1 (a gap in the data buffer)");
    CHECK(refusal(make_file(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "abcd")) ==
          prefix +
              "expected the tensors to cover the 4-byte data buffer exactly, got 2 bytes "
              "covered (unreferenced bytes at the end)");
    CHECK(refusal(make_file("{}", "x")) ==
          prefix +
              "expected the tensors to cover the 1-byte data buffer exactly, got 0 bytes "
              "covered (unreferenced bytes at the end)");
    CHECK(refusal(make_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", "ab")) ==
          prefix +
              "entry 'a': expected data within the file's 2-byte data buffer, got "
              "data_offsets [0,4] (data past the end of the file)");
    // 2^64 is no u64: the JSON parser reads it as a double.
    CHECK(refusal(make_file(R"({"a":{"dtype":"U8","shape":[1],)"
                            R"("data_offsets":[18446744073709551615,18446744073709551616]}})",
                            "ab"))
              .find(prefix +
                    "entry 'a': expected data_offsets of non-negative integers, got 1.8") == 0);
}

TEST_CASE("safetensors: duplicate names and duplicate fields") {
    CHECK(refusal(make_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                            R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                            "ab")) == prefix + "expected unique tensor names, got 'a' twice");
    CHECK(refusal(make_file(R"({"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "a")) ==
          prefix + "expected non-empty tensor names, got \"\"");
    CHECK(refusal(make_file(R"({"a":{"dtype":"U8","dtype":"U8","shape":[1],)"
                            R"("data_offsets":[0,1]}})",
                            "a")) ==
          prefix + "entry 'a': expected each key once, got 'dtype' twice");
}
