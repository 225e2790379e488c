// A real HTTP server for the HTTP teacher tests: cpp-httplib on 127.0.0.1,
// an ephemeral port, a thread of its own. Each test installs handlers that
// speak the protocol (or fail on purpose) and counts the requests it got.
#pragma once

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

namespace http_test {

class server {
public:
    httplib::Server http;
    std::atomic<int> requests{0};

    server() {
        // Count every request before its handler runs.
        http.set_pre_routing_handler([this](const httplib::Request &, httplib::Response &) {
            ++requests;
            return httplib::Server::HandlerResponse::Unhandled;
        });
    }
    // Call after the handlers are installed.
    void start() {
        port_ = http.bind_to_any_port("127.0.0.1");
        if (port_ <= 0) throw std::runtime_error("test server: bind failed");
        thread_ = std::thread([this] { http.listen_after_bind(); });
        // Bound already, so connections queue in the backlog; wait anyway
        // so a test's first request never races the accept loop's start.
        while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~server() {
        http.stop();
        if (thread_.joinable()) thread_.join();
    }
    std::string url(const std::string & prefix = "/v1") const {
        return "http://127.0.0.1:" + std::to_string(port_) + prefix;
    }

private:
    int port_ = 0;
    std::thread thread_;
};

// A port nothing listens on: bound, read, closed (connection refused).
inline int closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof address);
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

}  // namespace http_test

#include <distill/distill.hpp>

namespace http_test {

// Options for a test server: fast retries (a few ms) so the suite stays
// quick; base_url must outlive the options.
inline distill_http_teacher_options fast_options(
    const std::string & base_url, distill_http_dialect dialect = DISTILL_HTTP_DIALECT_OPENAI) {
    distill_http_teacher_options o;
    distill::check(distill_http_teacher_options_init(&o));
    o.base_url = base_url.c_str();
    o.model = "teacher-1";
    o.dialect = dialect;
    o.timeout_ms = 5000;
    o.connect_timeout_ms = 1000;
    o.retry_base_ms = 5;
    o.retry_max_delay_ms = 20;
    o.max_retry_seconds = 5.0;
    return o;
}

inline const char * json_type = "application/json";

}  // namespace http_test
