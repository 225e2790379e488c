#include "text/corpus_reader.h"

#include "common/error.h"
#include "common/file_error.h"
#include "common/mapped_file.h"
#include "text/jsonl_text_field.h"

namespace distill::text {

namespace {

using document_callback =
    std::function<void(const corpus_document &, const corpus_progress &)>;

bool is_blank(std::string_view line) {
    for (const char c : line)
        if (c != ' ' && c != '\t' && c != '\r') return false;
    return true;
}

// Calls `f(line, line_number, end_offset)` for each line of `bytes` (without
// its '\n'); the last line may lack one.
template <class F>
void for_each_line(std::string_view bytes, F && f) {
    size_t begin = 0;
    uint64_t number = 1;
    while (begin < bytes.size()) {
        size_t end = bytes.find('\n', begin);
        const size_t next = end == std::string_view::npos ? bytes.size() : end + 1;
        if (end == std::string_view::npos) end = bytes.size();
        f(bytes.substr(begin, end - begin), number, next);
        begin = next;
        ++number;
    }
}

void read_blank_lines(const mapped_file & file, corpus_progress & progress,
                      const document_callback & on_document) {
    const std::string_view bytes = file.bytes();
    size_t document_begin = 0, document_end = 0;
    uint64_t document_line = 0;  // 0: no document open
    auto finish = [&](uint64_t offset) {
        if (document_line == 0) return;
        corpus_progress now = progress;
        now.bytes_done += offset;
        on_document({bytes.substr(document_begin, document_end - document_begin), &file.path(),
                     document_line},
                    now);
        document_line = 0;
    };
    for_each_line(bytes, [&](std::string_view line, uint64_t number, size_t next) {
        if (is_blank(line)) {
            finish(next);
            return;
        }
        const size_t begin = size_t(line.data() - bytes.data());
        if (document_line == 0) {
            document_line = number;
            document_begin = begin;
        }
        // Through this line's content; a '\r' of a CRLF ending is not content.
        document_end = begin + line.size();
        if (!line.empty() && line.back() == '\r') --document_end;
    });
    finish(bytes.size());
}

void read_jsonl(const mapped_file & file, corpus_progress & progress,
                const document_callback & on_document) {
    const std::string_view bytes = file.bytes();
    std::string text;
    for_each_line(bytes, [&](std::string_view line, uint64_t number, size_t next) {
        if (is_blank(line)) return;
        auto where = [&] {
            return "'" + file.path().string() + "' line " + std::to_string(number) + ": ";
        };
        const std::string found = read_text_field(line, text);
        if (!found.empty())
            fail_corrupt(where() + "expected a JSON object with a string field \"text\", got " +
                         found);
        if (text.empty()) return;
        corpus_progress now = progress;
        now.bytes_done += next;
        on_document({text, &file.path(), number}, now);
    });
}

bool ends_with_jsonl(const std::filesystem::path & path) {
    return path.extension() == ".jsonl";
}

}  // namespace

corpus_layout parse_corpus_layout(const std::string & name) {
    if (name == "auto") return corpus_layout::automatic;
    if (name == "file") return corpus_layout::whole_file;
    if (name == "blank-lines") return corpus_layout::blank_lines;
    if (name == "jsonl") return corpus_layout::jsonl;
    fail_invalid("corpus layout '" + name + "': expected auto, file, blank-lines or jsonl");
}

void read_corpus(const std::vector<std::filesystem::path> & paths, corpus_layout layout,
                 const document_callback & on_document) {
    corpus_progress progress;
    for (const std::filesystem::path & path : paths) {
        const mapped_file file(path);
        file.advise_sequential();
        corpus_layout this_file = layout;
        if (this_file == corpus_layout::automatic)
            this_file = ends_with_jsonl(path) ? corpus_layout::jsonl : corpus_layout::whole_file;
        switch (this_file) {
        case corpus_layout::whole_file:
            if (file.size() > 0) {
                corpus_progress now = progress;
                now.bytes_done += file.size();
                on_document({file.bytes(), &file.path(), 1}, now);
            }
            break;
        case corpus_layout::blank_lines: read_blank_lines(file, progress, on_document); break;
        case corpus_layout::jsonl: read_jsonl(file, progress, on_document); break;
        case corpus_layout::automatic: break;
        }
        progress.bytes_done += file.size();
        ++progress.files_done;
    }
}

}  // namespace distill::text
