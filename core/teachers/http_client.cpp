#include "teachers/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "common/error.h"

namespace distill {
namespace {

// curl_global_init is not safe to race with other libcurl calls; run it once.
void init_curl_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            throw error(status::internal, "curl_global_init failed");
    });
}

size_t on_body(char * data, size_t size, size_t count, void * user) {
    static_cast<http_response *>(user)->body.append(data, size * count);
    return size * count;
}

size_t on_header(char * data, size_t size, size_t count, void * user) {
    const std::string line(data, size * count);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char & c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        const size_t begin = value.find_first_not_of(" \t");
        const size_t end = value.find_last_not_of(" \t\r\n");
        value = begin == std::string::npos ? "" : value.substr(begin, end - begin + 1);
        static_cast<http_response *>(user)->headers[name] = value;
    } else if (line.rfind("HTTP/", 0) == 0) {
        // A new status line (after a 100 Continue or a redirect): headers restart.
        static_cast<http_response *>(user)->headers.clear();
    }
    return size * count;
}

// Failures worth another attempt: the server was unreachable or the
// exchange broke off. Not: a bad URL, a TLS certificate that does not
// verify (retrying will not make it trustworthy), a callback abort.
bool retryable(CURLcode code) {
    switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return true;
    default: return false;
    }
}

struct easy_deleter {
    void operator()(CURL * easy) const { curl_easy_cleanup(easy); }
};
struct slist_deleter {
    void operator()(curl_slist * list) const { curl_slist_free_all(list); }
};

}  // namespace

// One transfer's handles and buffers, alive until it finishes: libcurl
// reads the body and writes the response in place.
struct http_multi::transfer {
    uint64_t tag = 0;
    http_request request;
    http_response response;
    std::unique_ptr<CURL, easy_deleter> easy;
    std::unique_ptr<curl_slist, slist_deleter> headers;
    char error_buffer[CURL_ERROR_SIZE] = {};

    void configure() {
        easy.reset(curl_easy_init());
        if (!easy) throw error(status::out_of_memory, "curl_easy_init failed");
        CURL * e = easy.get();
        curl_slist * list = curl_slist_append(nullptr, "Content-Type: application/json");
        for (const std::string & h : request.headers) list = curl_slist_append(list, h.c_str());
        for (const std::string & h : request.secret_headers)
            list = curl_slist_append(list, h.c_str());
        // "Expect: 100-continue" would add a round trip to every large body.
        list = curl_slist_append(list, "Expect:");
        headers.reset(list);
        curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
        if (request.get) {
            curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        } else {
            curl_easy_setopt(e, CURLOPT_POST, 1L);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, request.body.c_str());
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.size()));
        }
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &response);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, &response);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error_buffer);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM: we run on the host's threads
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // any encoding libcurl can decode
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, long(request.timeout_ms));
        if (request.connect_timeout_ms > 0)
            curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, long(request.connect_timeout_ms));
        if (request.low_speed_seconds > 0) {
            curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
            curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, long(request.low_speed_seconds));
        }
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, request.verify_tls ? 1L : 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, request.verify_tls ? 2L : 0L);
        curl_easy_setopt(e, CURLOPT_PRIVATE, this);
    }
};

void http_multi::multi_deleter::operator()(void * multi) const {
    curl_multi_cleanup(static_cast<CURLM *>(multi));
}

http_multi::http_multi() {
    init_curl_once();
    multi_.reset(curl_multi_init());
    if (!multi_) throw error(status::out_of_memory, "curl_multi_init failed");
}

// Easy handles must leave the multi handle before either is cleaned up.
http_multi::~http_multi() {
    for (auto & [tag, t] : transfers_) curl_multi_remove_handle(multi_.get(), t->easy.get());
}

void http_multi::start(uint64_t tag, const http_request & request) {
    if (transfers_.count(tag) != 0)
        throw error(status::internal, "http_multi: tag " + std::to_string(tag) + " is in flight");
    auto t = std::make_unique<transfer>();
    t->tag = tag;
    t->request = request;
    t->configure();
    const CURLMcode code = curl_multi_add_handle(multi_.get(), t->easy.get());
    if (code != CURLM_OK)
        throw error(status::internal,
                    std::string("curl_multi_add_handle: ") + curl_multi_strerror(code));
    transfers_.emplace(tag, std::move(t));
}

std::vector<std::pair<uint64_t, http_response>> http_multi::poll(
    std::chrono::milliseconds max_wait) {
    CURLM * multi = multi_.get();
    std::vector<std::pair<uint64_t, http_response>> finished;
    int running = 0;
    // Perform first: a transfer started just now needs it to begin at all.
    for (bool waited = false;; waited = true) {
        const CURLMcode code = curl_multi_perform(multi, &running);
        if (code != CURLM_OK)
            throw error(status::internal,
                        std::string("curl_multi_perform: ") + curl_multi_strerror(code));
        int messages = 0;
        while (CURLMsg * msg = curl_multi_info_read(multi, &messages)) {
            if (msg->msg != CURLMSG_DONE) continue;
            transfer * t = nullptr;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
            http_response & response = t->response;
            const CURLcode result = msg->data.result;
            if (result == CURLE_OK) {
                curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &response.status);
            } else {
                response.status = 0;
                response.transport_error =
                    *t->error_buffer ? t->error_buffer : curl_easy_strerror(result);
                response.timed_out = result == CURLE_OPERATION_TIMEDOUT;
                response.transport_retryable = retryable(result);
            }
            curl_multi_remove_handle(multi, t->easy.get());
            finished.emplace_back(t->tag, std::move(response));
            transfers_.erase(t->tag);
        }
        if (!finished.empty() || waited || transfers_.empty()) break;
        curl_multi_poll(multi, nullptr, 0, int(std::max<int64_t>(max_wait.count(), 0)), nullptr);
    }
    return finished;
}

std::vector<http_response> http_post_all(const std::vector<http_request> & requests) {
    std::vector<http_response> responses(requests.size());
    http_multi multi;
    for (size_t i = 0; i < requests.size(); ++i) multi.start(i, requests[i]);
    while (multi.in_flight() > 0)
        for (auto & [index, response] : multi.poll(std::chrono::milliseconds(1000)))
            responses[index] = std::move(response);
    return responses;
}

}  // namespace distill
