// Receive: the destination side of a push. Machine tokens, request authentication and the protocol routes
// (see docs/push-design.md); the work itself is import.hpp's receive_*.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "import.hpp"

namespace sitelift {

struct ReceiveSite {
    SiteTarget target;
    std::string url;        // the destination's URL (empty: its home option)
    nlohmann::json limits;  // what the web stack allows (max_body, max_execution_time, php_version, wp_version...)
    std::vector<std::string> keep;  // live folders that survive the swap (ImportOptions::keep)
};

struct ReceiveRequest {
    std::string method;
    std::string target;                         // request-target as received (path and query)
    std::map<std::string, std::string> headers; // names in lower case
    // The body. A part's body is decrypted in place here and wiped afterwards, so a part of several MB exists
    // once in the worker's memory: the PHP binding reads a request body stream straight into it.
    std::string body;
    // When set, the body instead of `body`, which then stays empty: the PHP binding passes a PHP string this way
    // rather than copying it (a part then needs a second buffer for its plaintext).
    std::string_view body_view;
    // The body's SHA-256 (hex, as signed), when the caller took it while reading the body in: hashing blocks as
    // they arrive hides the work in the wait for the next block, where hashing 8 MB afterwards is a pass of its
    // own. Empty: computed here from the body.
    std::string body_sha256;

    std::string_view payload() const { return body_view.data() ? body_view : std::string_view(body); }
};

struct ReceiveResponse {
    int status = 500;
    nlohmann::json body;  // always an object with "code" (and "message" for errors)
};

// Authenticates and answers one request. Never throws for anything the request contains; throws only when
// the site itself cannot be used (database down, work folder not writable).
// Takes the request by value: a part's body is decrypted where it lies (move a request in to avoid a copy).
ReceiveResponse receive_request(const ReceiveSite& site, ReceiveRequest request);
// The same checks of the sender (token, time, signature, nonce not seen) without remembering the nonce or
// doing anything: for a permission check before receive_request. Nothing when the request may go on.
std::optional<ReceiveResponse> receive_authenticate(const ReceiveSite& site, const ReceiveRequest& request);

// Creates the site's machine token (replacing any earlier one): token, fingerprint, url, site_name,
// expires_at. The token string is returned only here. ttl in seconds (60 .. 30 days).
nlohmann::json token_create(const SiteTarget& target, const std::string& url, const std::string& site_name,
                            int64_t ttl_seconds);
// Marks the token revoked; nothing signed with it is accepted any more. Error(state) when there is none.
void token_revoke(const SiteTarget& target);
// fingerprint, url, site_name, created_at, expires_at, expired, revoked and job (the push being received,
// see receive_state); {} when the site has no token.
nlohmann::json token_info(const SiteTarget& target);
// Removes the token record (uninstall).
void token_delete(const SiteTarget& target);

}  // namespace sitelift
