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
    std::atomic<int> requests{0};     // POSTs: the questions asked
    std::atomic<int> model_lists{0};  // GETs of .../models: an auto teacher's detection

    server() {
        // As production servers do: without it, a response written in two
        // send() calls on a kept-alive connection waits for a delayed ACK.
        http.set_tcp_nodelay(true);
        // Count every request before its handler runs.
        http.set_pre_routing_handler([this](const httplib::Request & q, httplib::Response &) {
            if (q.method == "GET" && q.path.size() >= 7 &&
                q.path.compare(q.path.size() - 7, 7, "/models") == 0)
                ++model_lists;
            else
                ++requests;
            return httplib::Server::HandlerResponse::Unhandled;
        });
    }
    // Handler threads (cpp-httplib's default is 8). A kept-alive connection
    // holds one, so a test of N concurrent requests needs more than N.
    void set_threads(size_t count) {
        http.new_task_queue = [count] { return new httplib::ThreadPool(count); };
    }
    // Call after the handlers are installed.
    void start() {
        port_ = http.bind_to_any_port("127.0.0.1");
        if (port_ <= 0) throw std::runtime_error("test server: bind failed");
        widen_backlog(port_);
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
    // cpp-httplib listens with a backlog of 5 (compiled into Debian's
    // library): a 6th simultaneous connect has its SYN dropped and retried a
    // second later, which would make every concurrent test slow and its
    // timings noise. Linux lets listen() be called again to widen it; find
    // the listening socket by its port among this process's descriptors.
    static void widen_backlog(int port) {
        for (int fd = 0; fd < 4096; ++fd) {
            int listening = 0;
            socklen_t size = sizeof listening;
            if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening)
                continue;
            sockaddr_in address{};
            socklen_t length = sizeof address;
            if (::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0 &&
                address.sin_family == AF_INET && ntohs(address.sin_port) == port)
                ::listen(fd, 1024);
        }
    }

    int port_ = 0;
    std::thread thread_;
};

// Requests a handler is serving right now, and the most seen at once.
class concurrency_gauge {
public:
    class scope {
    public:
        explicit scope(concurrency_gauge & g) : g_(g) {
            const int now = ++g_.current_;
            int seen = g_.most_.load();
            while (now > seen && !g_.most_.compare_exchange_weak(seen, now)) {
            }
        }
        ~scope() { --g_.current_; }

    private:
        concurrency_gauge & g_;
    };
    int most() const { return most_.load(); }

private:
    std::atomic<int> current_{0}, most_{0};
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
