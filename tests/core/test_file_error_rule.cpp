// common/file_error.h: the one rule from errno to status, and the message.
#include <doctest/doctest.h>

#include <cerrno>
#include <string>

#include "common/file_error.h"
#include "temp_dir.h"

using distill::status;

TEST_CASE("file error rule: errno to status") {
    CHECK(distill::file_status(ENOENT) == status::not_found);
    CHECK(distill::file_status(ENOTDIR) == status::not_found);
    CHECK(distill::file_status(ENOSPC) == status::disk_full);
    CHECK(distill::file_status(EDQUOT) == status::disk_full);
    for (int other : {EACCES, EPERM, EISDIR, EIO, EROFS, EMFILE, ENAMETOOLONG, ELOOP})
        CHECK(distill::file_status(other) == status::io_error);
}

TEST_CASE("file error rule: the message names the operation, the path and strerror") {
    try {
        distill::fail_file("writing", "/data/out.jsonl", ENOSPC);
        FAIL("fail_file returned");
    } catch (const distill::error & e) {
        CHECK(e.code() == status::disk_full);
        CHECK(std::string(e.what()) == "writing '/data/out.jsonl' failed: No space left on device");
    }
    test::temp_dir dir;
    CHECK_THROWS_WITH(
        distill::open_file_for_reading(dir.file("absent")),
        ("opening '" + dir.file("absent").string() + "' failed: No such file or directory")
            .c_str());
    CHECK_THROWS_WITH(distill::open_file_for_reading(dir.path()),
                      ("opening '" + dir.path().string() + "' failed: Is a directory").c_str());
}
