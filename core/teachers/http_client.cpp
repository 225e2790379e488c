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
struct multi_deleter {
    void operator()(CURLM * multi) const { curl_multi_cleanup(multi); }
};

// One transfer's handles and buffers, alive until the batch ends.
struct transfer {
    std::unique_ptr<CURL, easy_deleter> easy;
    std::unique_ptr<curl_slist, slist_deleter> headers;
    char error_buffer[CURL_ERROR_SIZE] = {};
};

void configure(transfer & t, const http_request & request, http_response & response) {
    t.easy.reset(curl_easy_init());
    if (!t.easy) throw error(status::out_of_memory, "curl_easy_init failed");
    CURL * e = t.easy.get();
    curl_slist * list = curl_slist_append(nullptr, "Content-Type: application/json");
    for (const std::string & h : request.headers) list = curl_slist_append(list, h.c_str());
    for (const std::string & h : request.secret_headers) list = curl_slist_append(list, h.c_str());
    // "Expect: 100-continue" would add a round trip to every large body.
    list = curl_slist_append(list, "Expect:");
    t.headers.reset(list);
    curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.size()));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &response);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error_buffer);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);         // no SIGALRM: we run on the host's threads
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
    curl_easy_setopt(e, CURLOPT_PRIVATE, &response);
}

}  // namespace

std::vector<http_response> http_post_all(const std::vector<http_request> & requests) {
    init_curl_once();
    std::vector<http_response> responses(requests.size());
    std::vector<transfer> transfers(requests.size());
    std::unique_ptr<CURLM, multi_deleter> multi(curl_multi_init());
    if (!multi) throw error(status::out_of_memory, "curl_multi_init failed");
    // Easy handles must leave the multi handle before either is cleaned up.
    struct detach_all {
        CURLM * multi;
        std::vector<transfer> & transfers;
        ~detach_all() {
            for (transfer & t : transfers)
                if (t.easy) curl_multi_remove_handle(multi, t.easy.get());
        }
    } detach{multi.get(), transfers};

    for (size_t i = 0; i < requests.size(); ++i) {
        configure(transfers[i], requests[i], responses[i]);
        curl_multi_add_handle(multi.get(), transfers[i].easy.get());
    }
    int running = 0;
    do {
        const CURLMcode code = curl_multi_perform(multi.get(), &running);
        if (code != CURLM_OK)
            throw error(status::internal,
                        std::string("curl_multi_perform: ") + curl_multi_strerror(code));
        int messages = 0;
        while (CURLMsg * msg = curl_multi_info_read(multi.get(), &messages)) {
            if (msg->msg != CURLMSG_DONE) continue;
            http_response * response = nullptr;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &response);
            const CURLcode result = msg->data.result;
            if (result == CURLE_OK) {
                curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &response->status);
            } else {
                const size_t index = size_t(response - responses.data());
                const char * detail = transfers[index].error_buffer;
                response->status = 0;
                response->transport_error = *detail ? detail : curl_easy_strerror(result);
                response->timed_out = result == CURLE_OPERATION_TIMEDOUT;
                response->transport_retryable = retryable(result);
            }
        }
        if (running > 0) curl_multi_poll(multi.get(), nullptr, 0, 1000, nullptr);
    } while (running > 0);
    return responses;
}

}  // namespace distill
