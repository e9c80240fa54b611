// One HTTP client for every platform adapter (issue 15): libcurl underneath, one call per
// request, and one answer to "what now?" for the step that made it.
//
// Contract:
// - call() never throws for anything the network or the server does; it returns an Outcome:
//   `ok` (2xx, 3xx), `retry` (no answer: connection refused, reset, timed out, name unknown; or
//   an answer that says "later": 5xx and 429, with the server's Retry-After when it sent one) or
//   `fail` (any other 4xx: asking again will not help; `error` carries the server's own message).
//   The kind's retry policy decides what a `retry` costs (as_op_result).
// - Timeouts per call: connecting, and the whole exchange.
// - Transport: TCP (http, https) or a unix socket (`unix_socket`, as Podman's API listens); the
//   URL's host is then only the Host header.
// - Secrets: error texts name the method and the URL without its user-info or query, and never
//   a header's value or a body sent; a server's message is cut to 300 characters.
// Thread-safe: each call uses its own curl handle.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/interfaces.hpp"

namespace stepq::http {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;
  std::string unix_socket;  // empty: TCP
  Fields headers;           // e.g. {"Authorization", "Bearer …"}, {"Accept", "…"}
  std::string body;         // sent as is; see json_body() and form_body()
  double connect_timeout_s = 10;
  double total_timeout_s = 60;
};

// `body` as JSON text, with its Content-Type.
Request& json_body(Request& r, std::string json);
// `fields` URL-encoded (application/x-www-form-urlencoded), with its Content-Type.
Request& form_body(Request& r, const Fields& fields);

struct Response {
  long status = 0;  // 0: no answer
  std::string body;
  Fields headers;  // names in lower case, in the order received (the last response's, after redirects)
  // The value of the first header of this name (case-insensitive), or nullopt.
  std::optional<std::string> header(const std::string& name) const;
};

struct Outcome {
  enum class Verdict { ok, retry, fail } verdict = Verdict::ok;
  Response response;
  std::string error;                    // empty when ok: what went wrong, for a step's reason
  std::optional<double> retry_after_s;  // 503/429 with Retry-After (seconds or an HTTP date)
};

Outcome call(const Request& r);

// What a step reports for an outcome that is not ok: `fail` fails the step at once (give_up: no
// further attempt, whatever the kind's retry policy); `retry` fails the attempt (the retry policy
// applies), unless the server named a time, which becomes a wait of that long without spending
// an attempt.
OpResult as_op_result(const Outcome& o);

// Percent-encodes all but RFC 3986's unreserved characters (for query values and form fields).
std::string url_encode(const std::string& s);

// The URL as error texts show it: no user-info, no query (tokens travel there).
std::string redacted(const std::string& url);

// curl_global_init, once per process (libcurl asks for it before any thread uses it).
void init_once();

}  // namespace stepq::http
