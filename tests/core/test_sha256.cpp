// Tests for Sha256 against published vectors (FIPS 180-2 examples).
#include "sha256.hpp"

#include <gtest/gtest.h>

#include <string>

using sitelift::Sha256;

namespace {

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(Sha256::hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(Sha256::hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(Sha256::hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(Sha256::hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShot) {
    const std::string data(1u << 20, 'a');
    const std::string one_shot = Sha256::hex(data);
    Sha256 h;
    size_t off = 0;
    size_t step = 1;
    while (off < data.size()) {
        size_t n = std::min(step, data.size() - off);
        h.update(data.data() + off, n);
        off += n;
        step = step * 3 + 1;  // 1, 4, 13, 40, ... crosses every block boundary pattern
    }
    EXPECT_EQ(h.hex_digest(), one_shot);
    EXPECT_EQ(one_shot.size(), 64u);
}

TEST(Sha256, ReusableAfterDigestAndEmptyUpdates) {
    Sha256 h;
    h.update("ab");
    h.update(nullptr, 0);
    h.update("c");
    EXPECT_EQ(h.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // Reset after hex_digest: the next message starts from scratch.
    EXPECT_EQ(h.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    h.update(std::string_view("abc"));
    EXPECT_EQ(h.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
