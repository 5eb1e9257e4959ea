// libFuzzer target: what a destination does with a push's untrusted bytes before trusting them (scripts/fuzz).
//
//   - parse_token() on a pasted token: a result or sitelift::Error, and a token it accepts is made again,
//     field for field, by make_token() (so nothing it lets through is outside the format);
//   - open_part() and open_part_in_place() on any bytes under a fixed key: never authenticated (a forgery
//     would need the key), and the in-place form leaves nothing of the input behind when it refuses;
//   - a part sealed from the input opens to the input, and with any one byte after the magic changed
//     (chosen by the input) it is refused;
//   - verify_request() with the input as signature is false, and true for the signature sign_request makes;
//   - base64url and hex decoders: what decodes encodes back to the same text.
#include "crypto.hpp"
#include "error.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_transfer: %s\n", what);
    std::abort();
}

const std::string& key() {
    static const std::string k(32, '\x5a');
    return k;
}

void check_token(const std::string& in) {
    sitelift::TokenInfo info;
    try {
        info = sitelift::parse_token(in);
    } catch (const sitelift::Error&) {
        return;
    }
    sitelift::TokenInfo made;
    std::string again;
    try {
        again = sitelift::make_token(info.url, info.site_name, info.expires_at, &made);
    } catch (const sitelift::Error&) {
        fail("parse_token accepted fields make_token refuses");
    }
    const sitelift::TokenInfo reparsed = sitelift::parse_token(again);
    if (reparsed.url != info.url || reparsed.site_name != info.site_name || reparsed.expires_at != info.expires_at)
        fail("a token made from parsed fields parses to other fields");
}

void check_parts(const std::string& in, uint8_t flip_at, uint8_t flip_bits) {
    try {
        sitelift::open_part(key(), "job-1", in);
        fail("open_part authenticated bytes nobody sealed");
    } catch (const sitelift::Error&) {
    }
    std::string buf = in;
    try {
        sitelift::open_part_in_place(key(), "job-1", buf);
        fail("open_part_in_place authenticated bytes nobody sealed");
    } catch (const sitelift::Error&) {
        if (buf.find_first_not_of('\0') != std::string::npos && !buf.empty()) fail("a refused part was not wiped");
    }
    const std::string sealed = sitelift::seal_part(key(), "job-1", 7, true, in);
    const sitelift::OpenedPart opened = sitelift::open_part(key(), "job-1", sealed);
    if (opened.plaintext != in || opened.index != 7 || !opened.last) fail("a sealed part did not open to itself");
    std::string tampered = sealed;
    const size_t at = 4 + static_cast<size_t>(flip_at) % (tampered.size() - 4);
    tampered[at] = static_cast<char>(tampered[at] ^ (flip_bits | 1));
    try {
        sitelift::open_part(key(), "job-1", tampered);
        fail("a part with a changed byte opened");
    } catch (const sitelift::Error&) {
    }
}

void check_signature(const std::string& in) {
    const std::string body(64, 'a');
    if (sitelift::verify_request(key(), "PUT", "/wp-json/sitelift/v1/part", 1700000000, "0123456789abcdef0123456789abcdef", body, in) &&
        in != sitelift::sign_request(key(), "PUT", "/wp-json/sitelift/v1/part", 1700000000, "0123456789abcdef0123456789abcdef", body))
        fail("verify_request accepted a signature sign_request does not make");
}

void check_codecs(const std::string& in) {
    std::string out;
    if (sitelift::base64url_decode(in, out) && sitelift::base64url_encode(out) != in)
        fail("base64url_decode accepted a text that is not the encoding of what it decoded to");
    if (sitelift::hex_decode(in, out) && sitelift::hex_encode(out) != in) {
        // Upper-case hex may be accepted; it must then be the same bytes.
        std::string lower = in;
        for (char& c : lower)
            if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        if (sitelift::hex_encode(out) != lower) fail("hex_decode accepted a text that does not encode what it decoded to");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const std::string in(reinterpret_cast<const char*>(data + 2), size - 2);
    check_token(in);
    check_parts(in, data[0], data[1]);
    check_signature(in);
    check_codecs(in);
    return 0;
}
