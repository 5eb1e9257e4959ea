#include "sha256.hpp"

#include "error.hpp"

#include <openssl/evp.h>

#include <new>

namespace sitelift {

namespace {

void init_or_throw(EVP_MD_CTX* ctx) {
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1)
        throw Error(ErrorKind::io, "SHA-256: OpenSSL could not initialise the digest");
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr) throw std::bad_alloc();
    try {
        init_or_throw(ctx_);
    } catch (...) {
        EVP_MD_CTX_free(ctx_);
        throw;
    }
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::update(const void* data, size_t len) {
    if (len == 0) return;
    if (EVP_DigestUpdate(ctx_, data, len) != 1) throw Error(ErrorKind::io, "SHA-256: OpenSSL digest update failed");
}

std::string Sha256::hex_digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_DigestFinal_ex(ctx_, md, &md_len) != 1) throw Error(ErrorKind::io, "SHA-256: OpenSSL digest final failed");
    // Ready for the next message, as documented.
    init_or_throw(ctx_);

    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.resize(static_cast<size_t>(md_len) * 2);
    for (unsigned int i = 0; i < md_len; ++i) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 0x0f];
    }
    return out;
}

std::string Sha256::hex(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.hex_digest();
}

}  // namespace sitelift
