// SiteLift core: machine tokens, request signing and part encryption for the push feature.
//
// The destination generates a machine token (make_token) and shows it once. The source parses it
// (parse_token), derives two keys from it (derive_keys), signs every HTTP request with the MAC key
// (sign_request) and seals every archive part with the encryption key (seal_part). The destination
// derives the same keys from its stored copy of the token, checks requests (verify_request,
// timestamp_fresh, plus its own nonce store) and opens parts (open_part).
//
// Everything here uses OpenSSL 3 EVP interfaces and relies on OpenSSL's lazy initialisation; nothing
// runs at load time. Exception messages never contain a secret, a key, a signature or any part of a
// token string. Failures of OpenSSL itself (missing algorithm, RNG failure) are reported as
// ErrorKind::io, like sha256.cpp does, since ErrorKind has no "internal" kind; allocation failures
// throw std::bad_alloc. Failure paths clear the thread's OpenSSL error queue so no stale entry reaches
// other OpenSSL users in the process (libcurl).
//
// ---------------------------------------------------------------------------------------------
// Machine token format (version "sl1")
//
//     sl1.<payload>.<secret>
//
//   <payload>  base64url, no padding, of a JSON object with exactly these five keys; make_token
//              writes it compactly with sorted keys; parse_token accepts any key order and JSON
//              whitespace inside the object:
//                {"e":<expires_at>,"i":"<token_id>","n":"<site_name>","u":"<url>","v":1}
//              e  expiry, Unix seconds, integer > 0
//              i  token id, 32 lower-case hex characters (16 random bytes)
//              n  destination site name, UTF-8, 1..1024 bytes, no control characters
//              u  destination URL, 1..2048 printable ASCII characters (0x21-0x7e), starting with
//                 "http://" or "https://" followed by a non-empty host part
//              v  1
//   <secret>   base64url, no padding, of the 32 random secret bytes (always 43 characters)
//
// The whole token therefore only uses [A-Za-z0-9._-] and survives copy/paste. parse_token is strict:
// it trims surrounding ASCII whitespace only, then demands that exact structure, canonical base64url
// (no padding, no stray trailing bits), a JSON object with exactly those five keys (no duplicates,
// no others) and the value rules above. It does not check expiry; see token_expired.
//
// ---------------------------------------------------------------------------------------------
// Keys
//
//   mac = HKDF-SHA256(ikm = secret, salt = token_id as its 32 ASCII hex characters,
//                     info = "sitelift v1 request mac", L = 32)
//   enc = HKDF-SHA256(ikm = secret, salt = token_id as its 32 ASCII hex characters,
//                     info = "sitelift v1 part encryption", L = 32)
//
// ---------------------------------------------------------------------------------------------
// Request signature: lower-case hex of HMAC-SHA256(mac, canonical), where canonical is the six lines
//
//     sitelift-v1-request\n
//     <METHOD>\n            1..16 upper-case letters A-Z, e.g. POST
//     <path>\n              the request-target exactly as sent on the wire (path plus any query
//                           string, already percent-encoded): starts with '/', 1..4096 bytes,
//                           printable ASCII 0x21-0x7e only
//     <timestamp>\n         Unix seconds, decimal, no sign, no leading zeros (>= 0)
//     <nonce>\n             32 lower-case hex characters (random_nonce())
//     <body_sha256_hex>     64 lower-case hex characters: SHA-256 of the exact body bytes
//                           (of the empty string when there is no body)
//
// with no trailing newline. No field may contain '\n' (the rules above exclude it), so the string
// is unambiguous. The destination must keep each accepted nonce for at least 2 * skew seconds and
// refuse a nonce it has seen; timestamp_fresh refuses anything older than that.
//
// ---------------------------------------------------------------------------------------------
// Sealed part (binary)
//
//     offset  size  field
//          0     4  magic "SLP1"
//          4     1  flags: bit 0 = last part, other bits zero
//          5     8  index, big-endian
//         13    12  GCM nonce: 4 random bytes | index big-endian (8 bytes)
//         25     n  ciphertext (same length as the plaintext)
//       25+n    16  GCM tag
//
//   AES-256-GCM with AAD = magic | flags | index | job_id (bytes 0..12 of the header, then job_id).
//   The AES key is not enc itself but a per-job subkey:
//       part key = HKDF-SHA256(ikm = enc, no salt, info = "sitelift v1 part key" 0x00 job_id, L = 32)
//   A token can serve many pushes; with one key for all of them, part i of every push would rely on
//   just 32 random nonce bits to stay unique under that key. The per-job subkey confines nonce
//   uniqueness to one job, where only retries of the same index share a key and the index half.
//   job_id must therefore be unique per push (e.g. random_nonce()); resending a part of the same job
//   is fine, because every seal draws fresh random bytes.
// ---------------------------------------------------------------------------------------------
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sitelift {

// ---- encodings ----------------------------------------------------------------------------------

// Lower-case hex.
std::string hex_encode(std::string_view data);
// Accepts upper- and lower-case digits; false (out unspecified) on odd length or a non-hex character.
bool hex_decode(std::string_view hex, std::string& out);

// RFC 4648 section 5 alphabet, no padding.
std::string base64url_encode(std::string_view data);
// Strict: alphabet [A-Za-z0-9_-] only, no padding, no whitespace, length % 4 != 1, unused trailing
// bits must be zero (so every byte string has exactly one accepted encoding). False on any violation.
bool base64url_decode(std::string_view text, std::string& out);

// ---- primitives -----------------------------------------------------------------------------------

// CRYPTO_memcmp over the bytes; different lengths return false (only the length leaks).
bool constant_time_equal(std::string_view a, std::string_view b);

// Overwrites the string's bytes with OPENSSL_cleanse and clears it.
void secure_wipe(std::string& s) noexcept;

// n bytes from RAND_bytes; throws Error(io) if the generator fails.
std::string random_bytes(size_t n);

// 16 random bytes as 32 lower-case hex characters; used as request nonce (and fits as a job id).
std::string random_nonce();

// Raw 32-byte HMAC-SHA256 (EVP_MAC).
std::string hmac_sha256(std::string_view key, std::string_view data);

// RFC 5869 HKDF-SHA256 (EVP_KDF "HKDF", extract-and-expand). An empty salt means "not provided"
// (RFC: HashLen zero bytes). ikm must not be empty; 1 <= length <= 8160. Throws Error(usage) otherwise.
std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info, size_t length);

// ---- machine tokens -------------------------------------------------------------------------------

struct TokenInfo {
    std::string version;    // "sl1"
    std::string url;        // destination URL
    std::string site_name;  // destination site name
    std::string token_id;   // 32 lower-case hex characters
    int64_t expires_at = 0; // Unix seconds
    std::string secret;     // 32 raw bytes; never log it

    ~TokenInfo();           // wipes secret
};

// Creates a token for the destination: draws token_id and secret, fills *out when out is not null and
// returns the token string (which contains the secret: show it once, never log it). Throws
// Error(usage) if url, site_name or expires_at break the rules in the format description.
std::string make_token(const std::string& url, const std::string& site_name, int64_t expires_at,
                       TokenInfo* out);

// Parses a pasted token (see the format above). Throws Error(usage, "the machine token is
// malformed: ...") naming the broken rule but never quoting the input.
TokenInfo parse_token(std::string_view token);

// True once now >= expires_at.
bool token_expired(const TokenInfo& info, int64_t now);

// First 12 hex characters of SHA-256(token_id): a non-secret label safe to log and show on both sides.
std::string token_fingerprint(const TokenInfo& info);

struct Keys {
    std::string mac;  // 32 bytes, request signing
    std::string enc;  // 32 bytes, part encryption

    ~Keys();          // wipes both
};

// See "Keys" above. Throws Error(usage) unless secret is 32 bytes and token_id is not empty.
Keys derive_keys(const std::string& secret, const std::string& token_id);

// ---- request signing ------------------------------------------------------------------------------

// The exact string that is MACed (see above); throws Error(usage) if a field breaks its rule.
std::string canonical_request(std::string_view method, std::string_view path, int64_t timestamp,
                              std::string_view nonce, std::string_view body_sha256_hex);

// 64 lower-case hex characters. Throws Error(usage) if mac_key is not 32 bytes or a field is invalid.
std::string sign_request(const std::string& mac_key, std::string_view method, std::string_view path,
                         int64_t timestamp, std::string_view nonce, std::string_view body_sha256_hex);

// True only if signature_hex is exactly the 64 lower-case hex characters sign_request would produce.
// Invalid fields or a malformed signature return false (they are attacker input); the comparison of
// the MAC bytes is constant-time. Throws Error(usage) only if mac_key is not 32 bytes (caller bug).
// Freshness and replay are separate checks: timestamp_fresh and the destination's nonce store.
bool verify_request(const std::string& mac_key, std::string_view method, std::string_view path,
                    int64_t timestamp, std::string_view nonce, std::string_view body_sha256_hex,
                    std::string_view signature_hex);

// |ts - now| <= skew_seconds, without overflow for any int64 values; false if skew_seconds < 0.
bool timestamp_fresh(int64_t ts, int64_t now, int64_t skew_seconds = 300);

// ---- parts ----------------------------------------------------------------------------------------

constexpr size_t kPartHeaderSize = 4 + 1 + 8 + 12;  // magic, flags, index, nonce
constexpr size_t kPartTagSize = 16;
constexpr size_t kPartOverhead = kPartHeaderSize + kPartTagSize;
constexpr size_t kMaxJobIdSize = 256;

// Encrypts one part (format above). enc_key must be 32 bytes and job_id 1..256 bytes, else
// Error(usage).
std::string seal_part(const std::string& enc_key, std::string_view job_id, uint64_t index, bool last,
                      std::string_view plaintext);
// The same, turning `part` (the plaintext) into the sealed part in its own buffer: for parts of several MB
// that would otherwise exist twice.
void seal_part_in_place(const std::string& enc_key, std::string_view job_id, uint64_t index, bool last,
                        std::string& part);

// Seals one part as a stream, in the format seal_part writes: the header goes to the sink at once, the
// ciphertext as plaintext arrives, the tag at finish(). For parts written to a file as they are made instead
// of being held in memory. The same argument checks as seal_part.
class PartSealer {
public:
    using Sink = std::function<void(const char* data, size_t size)>;
    PartSealer(const std::string& enc_key, std::string_view job_id, uint64_t index, bool last, Sink sink);
    ~PartSealer();
    PartSealer(const PartSealer&) = delete;
    PartSealer& operator=(const PartSealer&) = delete;
    void update(const char* data, size_t size);
    void finish();  // writes the tag; nothing may be added afterwards (Error(usage))
    uint64_t sealed_bytes() const;  // given to the sink so far

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct OpenedPart {
    uint64_t index = 0;
    bool last = false;
    std::string plaintext;
};

// Decrypts and authenticates one part. Throws Error(archive) if the blob cannot be a part at all
// (shorter than kPartOverhead, wrong magic) or authenticated fine but sets unknown flag bits;
// Error(security) if authentication fails (any changed byte after the magic, wrong job id, wrong
// key, truncation); Error(usage) for an invalid enc_key or job_id. Nothing decrypted is returned or
// kept unless the tag verifies.
OpenedPart open_part(const std::string& enc_key, std::string_view job_id, std::string_view sealed);

struct OpenedPartView {
    uint64_t index = 0;
    bool last = false;
    std::string_view plaintext;  // inside the buffer given to open_part_in_place
};

// The same, decrypting in the sealed part's own buffer: a part of several MB then exists once, not twice.
// `plaintext` points into `sealed`, which the caller wipes when done with it. When it throws, `sealed` has
// already been wiped (it may hold unauthenticated plaintext).
OpenedPartView open_part_in_place(const std::string& enc_key, std::string_view job_id, std::string& sealed);

}  // namespace sitelift
