// Incremental SHA-256 over OpenSSL's EVP interface.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace sitelift {

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(const void* data, size_t len);
    void update(std::string_view s) { update(s.data(), s.size()); }
    // Lower-case hex digest; the object is reset and can be reused afterwards.
    std::string hex_digest();

    static std::string hex(std::string_view data);

private:
    evp_md_ctx_st* ctx_;
};

}  // namespace sitelift
