#include "crypto.hpp"

#include "error.hpp"
#include "sha256.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <climits>
#include <iterator>
#include <memory>
#include <new>
#include <set>
#include <vector>

namespace sitelift {

namespace {

// ---- small helpers ---------------------------------------------------------------------------------

// Reports an OpenSSL failure. The thread's OpenSSL error queue is cleared first so that a stale entry
// cannot confuse the next OpenSSL user in this process (libcurl inspects that queue).
[[noreturn]] void openssl_failed(const char* what) {
    ERR_clear_error();
    throw Error(ErrorKind::io, std::string("OpenSSL failed: ") + what);
}

struct MacDeleter {
    void operator()(EVP_MAC* p) const { EVP_MAC_free(p); }
};
struct MacCtxDeleter {
    void operator()(EVP_MAC_CTX* p) const { EVP_MAC_CTX_free(p); }
};
struct KdfDeleter {
    void operator()(EVP_KDF* p) const { EVP_KDF_free(p); }
};
struct KdfCtxDeleter {
    void operator()(EVP_KDF_CTX* p) const { EVP_KDF_CTX_free(p); }
};
struct CipherCtxDeleter {
    void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};

// A string holding key material; wiped when it goes out of scope.
struct SecretString {
    std::string value;
    SecretString() = default;
    explicit SecretString(std::string v) : value(std::move(v)) {}
    SecretString(const SecretString&) = delete;
    SecretString& operator=(const SecretString&) = delete;
    ~SecretString() { secure_wipe(value); }
};

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(&s[0]); }

bool is_lower_hex(std::string_view s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

bool is_printable_ascii(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x21 || u > 0x7e) return false;
    }
    return true;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            ++i;
            continue;
        }
        size_t n;
        unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        } else {
            return false;
        }
        if (s.size() - i - 1 < n) return false;
        for (size_t k = 1; k <= n; ++k) {
            const auto b = static_cast<unsigned char>(s[i + k]);
            const unsigned char min = (k == 1) ? lo : 0x80;
            const unsigned char max = (k == 1) ? hi : 0xbf;
            if (b < min || b > max) return false;
        }
        i += n + 1;
    }
    return true;
}

void put_be64(unsigned char* p, uint64_t v) {
    for (int i = 7; i >= 0; --i) {
        p[i] = static_cast<unsigned char>(v & 0xff);
        v >>= 8;
    }
}

uint64_t get_be64(const unsigned char* p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return v;
}

// ---- token rules -------------------------------------------------------------------------------------

constexpr std::string_view kTokenPrefix = "sl1";
constexpr size_t kMaxTokenSize = 8192;
constexpr size_t kMaxUrlSize = 2048;
constexpr size_t kMaxSiteNameSize = 1024;
constexpr size_t kSecretSize = 32;
constexpr size_t kTokenIdBytes = 16;

// Each check returns nullptr when the value is fine, else a reason that quotes nothing of the input.
const char* check_url(std::string_view url) {
    if (url.empty()) return "the URL is empty";
    if (url.size() > kMaxUrlSize) return "the URL is too long";
    if (!is_printable_ascii(url)) return "the URL contains spaces, control or non-ASCII characters";
    std::string_view rest;
    if (starts_with(url, "https://"))
        rest = url.substr(8);
    else if (starts_with(url, "http://"))
        rest = url.substr(7);
    else
        return "the URL does not start with http:// or https://";
    if (rest.empty() || rest.front() == '/') return "the URL has no host";
    return nullptr;
}

const char* check_site_name(std::string_view name) {
    if (name.empty()) return "the site name is empty";
    if (name.size() > kMaxSiteNameSize) return "the site name is too long";
    if (!valid_utf8(name)) return "the site name is not valid UTF-8";
    for (char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) return "the site name contains control characters";
    }
    return nullptr;
}

const char* check_token_id(std::string_view id) {
    if (id.size() != kTokenIdBytes * 2 || !is_lower_hex(id)) return "the token id is not 32 lower-case hex characters";
    return nullptr;
}

const char* check_expiry(int64_t expires_at) {
    if (expires_at <= 0) return "the expiry is not a positive Unix time";
    return nullptr;
}

[[noreturn]] void malformed(const char* why) {
    throw Error(ErrorKind::usage, std::string("the machine token is malformed: ") + why);
}

void check_or_malformed(const char* why) {
    if (why != nullptr) malformed(why);
}

bool is_token_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
}

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// ---- request rules -----------------------------------------------------------------------------------

constexpr std::string_view kRequestLabel = "sitelift-v1-request";
constexpr size_t kMaxMethodSize = 16;
constexpr size_t kMaxPathSize = 4096;
constexpr size_t kMacSize = 32;
constexpr size_t kKeySize = 32;

const char* check_request_fields(std::string_view method, std::string_view path, int64_t timestamp,
                                 std::string_view nonce, std::string_view body_sha256_hex) {
    if (method.empty() || method.size() > kMaxMethodSize) return "the HTTP method must be 1 to 16 letters";
    for (char c : method)
        if (c < 'A' || c > 'Z') return "the HTTP method must be upper-case letters A-Z";
    if (path.empty() || path.front() != '/') return "the request path must start with '/'";
    if (path.size() > kMaxPathSize) return "the request path is too long";
    if (!is_printable_ascii(path)) return "the request path must be printable ASCII without spaces";
    if (timestamp < 0) return "the timestamp must not be negative";
    if (nonce.size() != 32 || !is_lower_hex(nonce)) return "the nonce must be 32 lower-case hex characters";
    if (body_sha256_hex.size() != 64 || !is_lower_hex(body_sha256_hex))
        return "the body hash must be 64 lower-case hex characters";
    return nullptr;
}

// Caller has validated the fields.
std::string build_canonical(std::string_view method, std::string_view path, int64_t timestamp,
                            std::string_view nonce, std::string_view body_sha256_hex) {
    std::string s;
    s.reserve(kRequestLabel.size() + method.size() + path.size() + nonce.size() + body_sha256_hex.size() + 32);
    s.append(kRequestLabel).append("\n");
    s.append(method).append("\n");
    s.append(path).append("\n");
    s.append(std::to_string(timestamp)).append("\n");
    s.append(nonce).append("\n");
    s.append(body_sha256_hex);
    return s;
}

// ---- part helpers --------------------------------------------------------------------------------------

constexpr char kPartMagic[4] = {'S', 'L', 'P', '1'};
constexpr unsigned char kFlagLast = 0x01;
constexpr size_t kPartNonceSize = 12;
constexpr size_t kPartAadHeaderSize = 4 + 1 + 8;
constexpr std::string_view kPartKeyLabel = "sitelift v1 part key";
// EVP update lengths are int; feed large parts in slices.
constexpr size_t kCipherSlice = size_t(1) << 20;

void check_part_args(const std::string& enc_key, std::string_view job_id) {
    if (enc_key.size() != kKeySize) throw Error(ErrorKind::usage, "the part encryption key must be 32 bytes");
    if (job_id.empty() || job_id.size() > kMaxJobIdSize)
        throw Error(ErrorKind::usage, "the job id must be 1 to 256 bytes long");
}

SecretString part_key(const std::string& enc_key, std::string_view job_id) {
    std::string info;
    info.reserve(kPartKeyLabel.size() + 1 + job_id.size());
    info.append(kPartKeyLabel).push_back('\0');
    info.append(job_id);
    return SecretString(hkdf_sha256(enc_key, std::string_view(), info, kKeySize));
}

std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> gcm_context(bool encrypt, const SecretString& key,
                                                              const unsigned char* nonce) {
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx(EVP_CIPHER_CTX_new());
    if (!ctx) throw std::bad_alloc();
    const int rc = encrypt
        ? EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr)
        : EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr);
    if (rc != 1) openssl_failed("AES-256-GCM initialisation");
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kPartNonceSize), nullptr) != 1)
        openssl_failed("AES-256-GCM nonce length");
    const auto* k = reinterpret_cast<const unsigned char*>(key.value.data());
    const int rc2 = encrypt ? EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, k, nonce)
                            : EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, k, nonce);
    if (rc2 != 1) openssl_failed("AES-256-GCM key setup");
    return ctx;
}

// Feeds AAD (header fields, then job id) into an initialised GCM context.
bool gcm_aad(EVP_CIPHER_CTX* ctx, bool encrypt, const unsigned char* header, std::string_view job_id) {
    int outl = 0;
    auto update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate;
    if (update(ctx, nullptr, &outl, header, static_cast<int>(kPartAadHeaderSize)) != 1) return false;
    return update(ctx, nullptr, &outl, bytes(job_id), static_cast<int>(job_id.size())) == 1;
}

[[noreturn]] void part_forged() {
    ERR_clear_error();
    throw Error(ErrorKind::security,
                "a part failed authentication: it was altered, truncated, belongs to another job or was sealed "
                "with another token");
}

}  // namespace

// ---- encodings ---------------------------------------------------------------------------------------

std::string hex_encode(std::string_view data) {
    static const char digits[] = "0123456789abcdef";
    std::string out(data.size() * 2, '\0');
    for (size_t i = 0; i < data.size(); ++i) {
        const auto b = static_cast<unsigned char>(data[i]);
        out[2 * i] = digits[b >> 4];
        out[2 * i + 1] = digits[b & 0x0f];
    }
    return out;
}

bool hex_decode(std::string_view hex, std::string& out) {
    if (hex.size() % 2 != 0) return false;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string result(hex.size() / 2, '\0');
    for (size_t i = 0; i < result.size(); ++i) {
        const int hi = nibble(hex[2 * i]);
        const int lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        result[i] = static_cast<char>((hi << 4) | lo);
    }
    out.swap(result);
    return true;
}

std::string base64url_encode(std::string_view data) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        const uint32_t v = (uint32_t(static_cast<unsigned char>(data[i])) << 16) |
                           (uint32_t(static_cast<unsigned char>(data[i + 1])) << 8) |
                           uint32_t(static_cast<unsigned char>(data[i + 2]));
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
        out.push_back(alphabet[v & 63]);
    }
    const size_t rest = data.size() - i;
    if (rest == 1) {
        const uint32_t v = uint32_t(static_cast<unsigned char>(data[i])) << 16;
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
    } else if (rest == 2) {
        const uint32_t v = (uint32_t(static_cast<unsigned char>(data[i])) << 16) |
                           (uint32_t(static_cast<unsigned char>(data[i + 1])) << 8);
        out.push_back(alphabet[(v >> 18) & 63]);
        out.push_back(alphabet[(v >> 12) & 63]);
        out.push_back(alphabet[(v >> 6) & 63]);
    }
    return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '-') return 62;
        if (c == '_') return 63;
        return -1;
    };
    const size_t rest = text.size() % 4;
    if (rest == 1) return false;
    std::string result;
    result.reserve(text.size() / 4 * 3 + 2);
    size_t i = 0;
    for (; i + 4 <= text.size(); i += 4) {
        uint32_t v = 0;
        for (size_t k = 0; k < 4; ++k) {
            const int d = value(text[i + k]);
            if (d < 0) return false;
            v = (v << 6) | uint32_t(d);
        }
        result.push_back(static_cast<char>((v >> 16) & 0xff));
        result.push_back(static_cast<char>((v >> 8) & 0xff));
        result.push_back(static_cast<char>(v & 0xff));
    }
    if (rest != 0) {
        uint32_t v = 0;
        for (size_t k = 0; k < rest; ++k) {
            const int d = value(text[i + k]);
            if (d < 0) return false;
            v = (v << 6) | uint32_t(d);
        }
        if (rest == 2) {
            if ((v & 0x0f) != 0) return false;  // 12 bits carry 8: the low 4 must be zero
            result.push_back(static_cast<char>((v >> 4) & 0xff));
        } else {
            if ((v & 0x03) != 0) return false;  // 18 bits carry 16: the low 2 must be zero
            result.push_back(static_cast<char>((v >> 10) & 0xff));
            result.push_back(static_cast<char>((v >> 2) & 0xff));
        }
    }
    out.swap(result);
    secure_wipe(result);
    return true;
}

// ---- primitives ----------------------------------------------------------------------------------------

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

void secure_wipe(std::string& s) noexcept {
    if (!s.empty()) OPENSSL_cleanse(&s[0], s.size());
    s.clear();
}

std::string random_bytes(size_t n) {
    std::string out(n, '\0');
    if (n == 0) return out;
    if (n > static_cast<size_t>(INT_MAX)) throw Error(ErrorKind::usage, "too many random bytes requested");
    if (RAND_bytes(bytes(out), static_cast<int>(n)) != 1) {
        ERR_clear_error();
        throw Error(ErrorKind::io, "the system random number generator failed");
    }
    return out;
}

std::string random_nonce() { return hex_encode(random_bytes(16)); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::unique_ptr<EVP_MAC, MacDeleter> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (!mac) openssl_failed("HMAC is not available");
    std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_new(mac.get()));
    if (!ctx) throw std::bad_alloc();
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    static const unsigned char empty = 0;
    const unsigned char* k = key.empty() ? &empty : bytes(key);
    if (EVP_MAC_init(ctx.get(), k, key.size(), params) != 1) openssl_failed("HMAC-SHA256 initialisation");
    if (!data.empty() && EVP_MAC_update(ctx.get(), bytes(data), data.size()) != 1)
        openssl_failed("HMAC-SHA256 update");
    std::string out(kMacSize, '\0');
    size_t outl = 0;
    if (EVP_MAC_final(ctx.get(), bytes(out), &outl, out.size()) != 1 || outl != kMacSize)
        openssl_failed("HMAC-SHA256 final");
    return out;
}

std::string hkdf_sha256(std::string_view ikm, std::string_view salt, std::string_view info, size_t length) {
    if (ikm.empty()) throw Error(ErrorKind::usage, "HKDF needs non-empty input key material");
    if (length == 0 || length > 255 * 32) throw Error(ErrorKind::usage, "HKDF-SHA256 output must be 1 to 8160 bytes");
    std::unique_ptr<EVP_KDF, KdfDeleter> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
    if (!kdf) openssl_failed("HKDF is not available");
    std::unique_ptr<EVP_KDF_CTX, KdfCtxDeleter> ctx(EVP_KDF_CTX_new(kdf.get()));
    if (!ctx) throw std::bad_alloc();
    char digest[] = "SHA256";
    OSSL_PARAM params[5];
    OSSL_PARAM* p = params;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<char*>(ikm.data()), ikm.size());
    if (!salt.empty())
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size());
    if (!info.empty())
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size());
    *p = OSSL_PARAM_construct_end();
    std::string out(length, '\0');
    if (EVP_KDF_derive(ctx.get(), bytes(out), out.size(), params) != 1) {
        secure_wipe(out);
        openssl_failed("HKDF-SHA256 derivation");
    }
    return out;
}

// ---- machine tokens ----------------------------------------------------------------------------------

TokenInfo::~TokenInfo() { secure_wipe(secret); }
Keys::~Keys() {
    secure_wipe(mac);
    secure_wipe(enc);
}

std::string make_token(const std::string& url, const std::string& site_name, int64_t expires_at, TokenInfo* out) {
    for (const char* why : {check_url(url), check_site_name(site_name), check_expiry(expires_at)})
        if (why != nullptr) throw Error(ErrorKind::usage, std::string("cannot create a machine token: ") + why);

    const std::string token_id = hex_encode(random_bytes(kTokenIdBytes));
    SecretString secret(random_bytes(kSecretSize));

    nlohmann::json payload = {{"v", 1}, {"u", url}, {"n", site_name}, {"i", token_id}, {"e", expires_at}};
    std::string token;
    {
        SecretString secret_b64(base64url_encode(secret.value));
        token.append(kTokenPrefix).push_back('.');
        token.append(base64url_encode(payload.dump()));
        token.push_back('.');
        token.append(secret_b64.value);
    }

    if (out != nullptr) {
        out->version = std::string(kTokenPrefix);
        out->url = url;
        out->site_name = site_name;
        out->token_id = token_id;
        out->expires_at = expires_at;
        secure_wipe(out->secret);
        out->secret = secret.value;
    }
    return token;
}

TokenInfo parse_token(std::string_view token) {
    while (!token.empty() && is_ascii_space(token.front())) token.remove_prefix(1);
    while (!token.empty() && is_ascii_space(token.back())) token.remove_suffix(1);

    if (token.empty()) malformed("it is empty");
    if (token.size() > kMaxTokenSize) malformed("it is too long");
    for (char c : token)
        if (!is_token_char(c))
            malformed("it contains characters other than letters, digits, '.', '_' and '-' (was it changed "
                      "while copying?)");
    if (!starts_with(token, std::string(kTokenPrefix) + ".")) malformed("it does not start with \"sl1.\"");

    const std::string_view body = token.substr(kTokenPrefix.size() + 1);
    const size_t dot = body.find('.');
    if (dot == std::string_view::npos || body.find('.', dot + 1) != std::string_view::npos)
        malformed("it does not consist of three parts separated by '.'");
    const std::string_view payload_b64 = body.substr(0, dot);
    const std::string_view secret_b64 = body.substr(dot + 1);

    TokenInfo info;
    if (!base64url_decode(secret_b64, info.secret)) malformed("the secret part is not valid base64url");
    if (info.secret.size() != kSecretSize) malformed("the secret is not 32 bytes long");

    std::string payload;
    if (payload_b64.empty() || !base64url_decode(payload_b64, payload))
        malformed("the payload part is not valid base64url");
    if (payload.empty() || payload.front() != '{') malformed("the payload is not a JSON object");

    using nlohmann::json;
    std::set<std::string> seen;
    bool duplicate = false;
    json::parser_callback_t track_keys = [&](int depth, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::key && depth == 1 && parsed.is_string() &&
            !seen.insert(parsed.get<std::string>()).second)
            duplicate = true;
        return true;
    };
    const json j = json::parse(payload, track_keys, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) malformed("the payload is not a JSON object");
    if (duplicate) malformed("the payload repeats a field");

    struct Field {
        const char* key;
        const char* missing;
    };
    static const Field fields[] = {
        {"v", "the version field 'v' is missing"}, {"u", "the URL field 'u' is missing"},
        {"n", "the site name field 'n' is missing"}, {"i", "the token id field 'i' is missing"},
        {"e", "the expiry field 'e' is missing"},
    };
    for (const Field& f : fields)
        if (!j.contains(f.key)) malformed(f.missing);
    if (j.size() != std::size(fields)) malformed("the payload has unknown fields");

    const json& v = j.at("v");
    if (!v.is_number_integer() || (v.is_number_unsigned() ? v.get<uint64_t>() != 1 : v.get<int64_t>() != 1))
        malformed("unsupported token version");

    const json& u = j.at("u");
    const json& n = j.at("n");
    const json& i = j.at("i");
    if (!u.is_string()) malformed("the URL is not a string");
    if (!n.is_string()) malformed("the site name is not a string");
    if (!i.is_string()) malformed("the token id is not a string");

    const json& e = j.at("e");
    if (!e.is_number_integer()) malformed("the expiry is not an integer");
    if (e.is_number_unsigned()) {
        if (e.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) malformed("the expiry is out of range");
        info.expires_at = static_cast<int64_t>(e.get<uint64_t>());
    } else {
        info.expires_at = e.get<int64_t>();
    }

    info.version = std::string(kTokenPrefix);
    info.url = u.get<std::string>();
    info.site_name = n.get<std::string>();
    info.token_id = i.get<std::string>();
    check_or_malformed(check_url(info.url));
    check_or_malformed(check_site_name(info.site_name));
    check_or_malformed(check_token_id(info.token_id));
    check_or_malformed(check_expiry(info.expires_at));
    return info;
}

bool token_expired(const TokenInfo& info, int64_t now) { return now >= info.expires_at; }

std::string token_fingerprint(const TokenInfo& info) { return Sha256::hex(info.token_id).substr(0, 12); }

Keys derive_keys(const std::string& secret, const std::string& token_id) {
    if (secret.size() != kSecretSize) throw Error(ErrorKind::usage, "the token secret must be 32 bytes");
    if (token_id.empty()) throw Error(ErrorKind::usage, "the token id must not be empty");
    Keys keys;
    keys.mac = hkdf_sha256(secret, token_id, "sitelift v1 request mac", kKeySize);
    keys.enc = hkdf_sha256(secret, token_id, "sitelift v1 part encryption", kKeySize);
    return keys;
}

// ---- request signing -------------------------------------------------------------------------------

std::string canonical_request(std::string_view method, std::string_view path, int64_t timestamp,
                              std::string_view nonce, std::string_view body_sha256_hex) {
    if (const char* why = check_request_fields(method, path, timestamp, nonce, body_sha256_hex))
        throw Error(ErrorKind::usage, std::string("cannot sign the request: ") + why);
    return build_canonical(method, path, timestamp, nonce, body_sha256_hex);
}

std::string sign_request(const std::string& mac_key, std::string_view method, std::string_view path,
                         int64_t timestamp, std::string_view nonce, std::string_view body_sha256_hex) {
    if (mac_key.size() != kKeySize) throw Error(ErrorKind::usage, "the request signing key must be 32 bytes");
    const std::string canonical = canonical_request(method, path, timestamp, nonce, body_sha256_hex);
    return hex_encode(hmac_sha256(mac_key, canonical));
}

bool verify_request(const std::string& mac_key, std::string_view method, std::string_view path,
                    int64_t timestamp, std::string_view nonce, std::string_view body_sha256_hex,
                    std::string_view signature_hex) {
    if (mac_key.size() != kKeySize) throw Error(ErrorKind::usage, "the request signing key must be 32 bytes");
    if (check_request_fields(method, path, timestamp, nonce, body_sha256_hex) != nullptr) return false;
    // The signature is attacker input: its length and alphabet may be judged with ordinary branches.
    if (signature_hex.size() != kMacSize * 2 || !is_lower_hex(signature_hex)) return false;
    std::string given;
    if (!hex_decode(signature_hex, given)) return false;
    SecretString expected(hmac_sha256(mac_key, build_canonical(method, path, timestamp, nonce, body_sha256_hex)));
    return CRYPTO_memcmp(expected.value.data(), given.data(), kMacSize) == 0;
}

bool timestamp_fresh(int64_t ts, int64_t now, int64_t skew_seconds) {
    if (skew_seconds < 0) return false;
    // The distance of two int64 values always fits in uint64; unsigned wrap-around makes it exact.
    const uint64_t diff = ts >= now ? static_cast<uint64_t>(ts) - static_cast<uint64_t>(now)
                                    : static_cast<uint64_t>(now) - static_cast<uint64_t>(ts);
    return diff <= static_cast<uint64_t>(skew_seconds);
}

// ---- parts -------------------------------------------------------------------------------------------

namespace {

// Writes a part's header (kPartHeaderSize bytes, fresh nonce) and returns the GCM context ready for its
// plaintext, the header and job id already taken in as associated data.
std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> begin_sealing(const std::string& enc_key, std::string_view job_id,
                                                                uint64_t index, bool last, unsigned char* header) {
    check_part_args(enc_key, job_id);
    std::copy(kPartMagic, kPartMagic + 4, header);
    header[4] = last ? kFlagLast : 0;
    put_be64(header + 5, index);
    unsigned char* nonce = header + kPartAadHeaderSize;
    const std::string random = random_bytes(4);
    std::copy(random.begin(), random.end(), nonce);
    put_be64(nonce + 4, index);
    const SecretString key = part_key(enc_key, job_id);
    auto ctx = gcm_context(/*encrypt=*/true, key, nonce);
    if (!gcm_aad(ctx.get(), true, header, job_id)) openssl_failed("AES-256-GCM associated data");
    return ctx;
}

}  // namespace

void seal_part_in_place(const std::string& enc_key, std::string_view job_id, uint64_t index, bool last,
                        std::string& part) {
    check_part_args(enc_key, job_id);
    if (part.size() > (size_t(1) << 36)) throw Error(ErrorKind::usage, "a part must be smaller than 64 GiB");

    const size_t n_plain = part.size();
    part.insert(0, kPartHeaderSize, '\0');  // one move of the plaintext; no second buffer of its size
    part.resize(kPartOverhead + n_plain);
    unsigned char* header = bytes(part);
    auto ctx = begin_sealing(enc_key, job_id, index, last, header);

    // In place: EVP_EncryptUpdate allows the output to be the input.
    unsigned char* data = header + kPartHeaderSize;
    size_t done = 0;
    while (done < n_plain) {
        const size_t n = std::min(kCipherSlice, n_plain - done);
        int outl = 0;
        if (EVP_EncryptUpdate(ctx.get(), data + done, &outl, data + done, static_cast<int>(n)) != 1 ||
            static_cast<size_t>(outl) != n)
            openssl_failed("AES-256-GCM encryption");
        done += n;
    }
    int outl = 0;
    if (EVP_EncryptFinal_ex(ctx.get(), data + done, &outl) != 1 || outl != 0) openssl_failed("AES-256-GCM final");
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kPartTagSize), data + done) != 1)
        openssl_failed("AES-256-GCM tag");
}

struct PartSealer::Impl {
    std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter> ctx;
    Sink sink;
    std::vector<unsigned char> out;  // one slice of ciphertext on its way to the sink
    uint64_t plain = 0, sealed = 0;
    bool finished = false;

    void emit(const unsigned char* d, size_t n) {
        sink(reinterpret_cast<const char*>(d), n);
        sealed += n;
    }
};

PartSealer::PartSealer(const std::string& enc_key, std::string_view job_id, uint64_t index, bool last, Sink sink)
    : impl_(std::make_unique<Impl>()) {
    impl_->sink = std::move(sink);
    unsigned char header[kPartHeaderSize];
    impl_->ctx = begin_sealing(enc_key, job_id, index, last, header);
    impl_->out.resize(std::min<size_t>(kCipherSlice, 256u << 10));
    impl_->emit(header, kPartHeaderSize);
}

PartSealer::~PartSealer() = default;

void PartSealer::update(const char* data, size_t size) {
    Impl& m = *impl_;
    if (m.finished) throw Error(ErrorKind::usage, "a sealed part takes nothing after its tag");
    if (m.plain + size > (uint64_t(1) << 36)) throw Error(ErrorKind::usage, "a part must be smaller than 64 GiB");
    const auto* in = reinterpret_cast<const unsigned char*>(data);
    size_t done = 0;
    while (done < size) {
        const size_t n = std::min(m.out.size(), size - done);
        int outl = 0;
        if (EVP_EncryptUpdate(m.ctx.get(), m.out.data(), &outl, in + done, static_cast<int>(n)) != 1 ||
            static_cast<size_t>(outl) != n)
            openssl_failed("AES-256-GCM encryption");
        m.emit(m.out.data(), n);
        done += n;
    }
    m.plain += size;
}

void PartSealer::finish() {
    Impl& m = *impl_;
    if (m.finished) throw Error(ErrorKind::usage, "a sealed part is finished once");
    m.finished = true;
    unsigned char tail[16];
    int outl = 0;
    if (EVP_EncryptFinal_ex(m.ctx.get(), tail, &outl) != 1 || outl != 0) openssl_failed("AES-256-GCM final");
    unsigned char tag[kPartTagSize];
    if (EVP_CIPHER_CTX_ctrl(m.ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kPartTagSize), tag) != 1)
        openssl_failed("AES-256-GCM tag");
    m.emit(tag, kPartTagSize);
}

uint64_t PartSealer::sealed_bytes() const { return impl_->sealed; }

std::string seal_part(const std::string& enc_key, std::string_view job_id, uint64_t index, bool last,
                      std::string_view plaintext) {
    std::string out;
    out.reserve(kPartOverhead + plaintext.size());
    out.assign(plaintext);
    seal_part_in_place(enc_key, job_id, index, last, out);
    return out;
}

namespace {

// Checks a sealed part's header and decrypts its ciphertext into `dst` (which may be the ciphertext itself).
// Returns the header; throws as open_part documents. `dst` holds unauthenticated bytes when it throws
// Error(security): the caller wipes them.
const unsigned char* decrypt_part(const std::string& enc_key, std::string_view job_id, std::string_view sealed,
                                  unsigned char* dst) {
    check_part_args(enc_key, job_id);
    if (sealed.size() < kPartOverhead)
        throw Error(ErrorKind::archive, "a part is too short to be a SiteLift part (truncated upload?)");
    if (sealed.compare(0, 4, std::string_view(kPartMagic, 4)) != 0)
        throw Error(ErrorKind::archive, "a part does not start with the SiteLift part signature");

    const unsigned char* header = bytes(sealed);
    const unsigned char* nonce = header + kPartAadHeaderSize;
    const unsigned char* ciphertext = header + kPartHeaderSize;
    const size_t n = sealed.size() - kPartOverhead;
    // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; copy the tag out.
    unsigned char tag[kPartTagSize];
    std::copy(ciphertext + n, ciphertext + n + kPartTagSize, tag);

    const SecretString key = part_key(enc_key, job_id);
    auto ctx = gcm_context(/*encrypt=*/false, key, nonce);
    if (!gcm_aad(ctx.get(), false, header, job_id)) openssl_failed("AES-256-GCM associated data");

    // EVP_DecryptUpdate, like its encrypting twin, allows the output to be the input.
    size_t done = 0;
    while (done < n) {
        const size_t len = std::min(kCipherSlice, n - done);
        int outl = 0;
        if (EVP_DecryptUpdate(ctx.get(), dst + done, &outl, ciphertext + done, static_cast<int>(len)) != 1 ||
            static_cast<size_t>(outl) != len)
            openssl_failed("AES-256-GCM decryption");
        done += len;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kPartTagSize), tag) != 1)
        openssl_failed("AES-256-GCM tag");
    unsigned char final_block[16];
    int outl = 0;
    if (EVP_DecryptFinal_ex(ctx.get(), final_block, &outl) != 1) part_forged();

    if ((header[4] & ~kFlagLast) != 0)
        throw Error(ErrorKind::archive, "a part uses flags this version of SiteLift does not know");
    return header;
}

}  // namespace

OpenedPart open_part(const std::string& enc_key, std::string_view job_id, std::string_view sealed) {
    SecretString plain(std::string(sealed.size() > kPartOverhead ? sealed.size() - kPartOverhead : 0, '\0'));
    const unsigned char* header =
        decrypt_part(enc_key, job_id, sealed, plain.value.empty() ? nullptr : bytes(plain.value));  // wiped on unwind
    OpenedPart part;
    part.index = get_be64(header + 5);
    part.last = (header[4] & kFlagLast) != 0;
    part.plaintext.swap(plain.value);
    return part;
}

OpenedPartView open_part_in_place(const std::string& enc_key, std::string_view job_id, std::string& sealed) {
    unsigned char* data = sealed.size() > kPartOverhead ? bytes(sealed) + kPartHeaderSize : nullptr;
    try {
        decrypt_part(enc_key, job_id, sealed, data);
    } catch (...) {
        secure_wipe(sealed);  // unauthenticated plaintext is never left behind
        throw;
    }
    const unsigned char* header = bytes(sealed);
    OpenedPartView part;
    part.index = get_be64(header + 5);
    part.last = (header[4] & kFlagLast) != 0;
    part.plaintext = std::string_view(sealed).substr(kPartHeaderSize, sealed.size() - kPartOverhead);
    return part;
}

}  // namespace sitelift
