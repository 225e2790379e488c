#include "cli_runner.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace cli_test {

namespace detail {
std::string binary;
std::filesystem::path root;
}  // namespace detail

const std::string & binary() { return detail::binary; }

std::filesystem::path scratch(const std::string & name) {
    const std::filesystem::path path = detail::root / name;
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    return path;
}

std::string slurp(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write(const std::filesystem::path & path, const std::string & text) {
    std::ofstream(path) << text;
}

Result run(const std::string & args, const std::string & env) {
    const auto out = detail::root / "stdout.txt", err = detail::root / "stderr.txt";
    const std::string command = env + " timeout 60 '" + detail::binary + "' " + args + " >'" +
                                out.string() + "' 2>'" + err.string() + "'";
    const int status = std::system(command.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    std::cerr << "$ distill " << args << "  -> " << r.code << "\n" << r.err;
    return r;
}

pid_t start(const std::vector<std::string> & args, const std::string & out,
            const std::string & err) {
    const pid_t child = ::fork();
    if (child == 0) {
        const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(o, 1);
        ::dup2(e, 2);
        std::vector<char *> argv{const_cast<char *>(detail::binary.c_str())};
        for (const std::string & a : args) argv.push_back(const_cast<char *>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(detail::binary.c_str(), argv.data());
        ::_exit(127);
    }
    return child;
}

int wait_exit(pid_t child) {
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

void write_idx(const std::filesystem::path & path, const std::vector<int32_t> & sizes,
               const std::vector<uint8_t> & bytes) {
    std::ofstream out(path, std::ios::binary);
    const auto be32 = [&](uint32_t v) {
        const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
        out.write(b, 4);
    };
    be32(0x0800u | uint32_t(sizes.size()));
    for (int32_t size : sizes) be32(uint32_t(size));
    out.write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
}

}  // namespace cli_test
