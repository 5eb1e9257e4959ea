// Tests for crypto.hpp: machine tokens, key derivation, request signing and sealed parts.
#include "crypto.hpp"

#include "error.hpp"
#include "sha256.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <vector>

using namespace sitelift;

namespace {

std::string unhex(std::string_view h) {
    std::string out;
    EXPECT_TRUE(hex_decode(h, out)) << h;
    return out;
}

bool only_token_chars(const std::string& s) {
    for (char c : s) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

bool lower_hex(const std::string& s) {
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

// ---- encodings -------------------------------------------------------------------------------------

TEST(CryptoEncoding, HexRoundTripAndRefusals) {
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    const std::string h = hex_encode(all);
    EXPECT_EQ(h.size(), 512u);
    EXPECT_TRUE(lower_hex(h));
    std::string back;
    ASSERT_TRUE(hex_decode(h, back));
    EXPECT_EQ(back, all);
    ASSERT_TRUE(hex_decode("DEADbeef", back));
    EXPECT_EQ(back, std::string("\xde\xad\xbe\xef"));
    ASSERT_TRUE(hex_decode("", back));
    EXPECT_EQ(back, "");
    EXPECT_FALSE(hex_decode("abc", back));
    EXPECT_FALSE(hex_decode("zz", back));
    EXPECT_FALSE(hex_decode("0g", back));
    EXPECT_FALSE(hex_decode(" 00", back));
}

TEST(CryptoEncoding, Base64urlVectors) {
    // RFC 4648 section 10, without padding.
    EXPECT_EQ(base64url_encode(""), "");
    EXPECT_EQ(base64url_encode("f"), "Zg");
    EXPECT_EQ(base64url_encode("fo"), "Zm8");
    EXPECT_EQ(base64url_encode("foo"), "Zm9v");
    EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
    EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
    EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
    // The URL-safe characters ('+/' in standard base64).
    EXPECT_EQ(base64url_encode(std::string("\xfb\xff", 2)), "-_8");

    std::string out;
    for (const char* s : {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy", "-_8"}) {
        ASSERT_TRUE(base64url_decode(s, out)) << s;
        EXPECT_EQ(base64url_encode(out), s);
    }
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(255 - i));
    for (size_t n = 0; n <= all.size(); ++n) {
        const std::string enc = base64url_encode(all.substr(0, n));
        ASSERT_TRUE(base64url_decode(enc, out));
        EXPECT_EQ(out, all.substr(0, n));
    }
}

TEST(CryptoEncoding, Base64urlStrictRefusals) {
    std::string out;
    EXPECT_FALSE(base64url_decode("Zg==", out));      // padding
    EXPECT_FALSE(base64url_decode("+/8", out));       // standard alphabet
    EXPECT_FALSE(base64url_decode("Z", out));         // length % 4 == 1
    EXPECT_FALSE(base64url_decode("Zm9vY", out));     // length % 4 == 1
    EXPECT_FALSE(base64url_decode("Zh", out));        // non-zero unused bits
    EXPECT_FALSE(base64url_decode("Zm9", out));       // non-zero unused bits
    EXPECT_FALSE(base64url_decode("Zm 9v", out));     // whitespace
    EXPECT_FALSE(base64url_decode("Zm9v\n", out));    // newline
    EXPECT_FALSE(base64url_decode(std::string("Zm\0v", 4), out));
}

// ---- primitives ------------------------------------------------------------------------------------

TEST(CryptoPrimitives, HmacSha256Rfc4231) {
    // Test case 1.
    EXPECT_EQ(hex_encode(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    // Test case 2.
    EXPECT_EQ(hex_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // Test case 6: key longer than the block size.
    EXPECT_EQ(hex_encode(hmac_sha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(CryptoPrimitives, HkdfSha256Rfc5869) {
    // Test case 1.
    EXPECT_EQ(hex_encode(hkdf_sha256(std::string(22, '\x0b'), unhex("000102030405060708090a0b0c"),
                                     unhex("f0f1f2f3f4f5f6f7f8f9"), 42)),
              "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    // Test case 3: no salt, no info.
    EXPECT_EQ(hex_encode(hkdf_sha256(std::string(22, '\x0b'), "", "", 42)),
              "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(CryptoPrimitives, HkdfRefusals) {
    EXPECT_THROW(hkdf_sha256("", "salt", "info", 32), Error);
    EXPECT_THROW(hkdf_sha256("ikm", "salt", "info", 0), Error);
    EXPECT_THROW(hkdf_sha256("ikm", "salt", "info", 255 * 32 + 1), Error);
    EXPECT_EQ(hkdf_sha256("ikm", "salt", "info", 255 * 32).size(), 255u * 32u);
}

TEST(CryptoPrimitives, ConstantTimeEqual) {
    EXPECT_TRUE(constant_time_equal("", ""));
    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_TRUE(constant_time_equal(std::string("a\0b", 3), std::string("a\0b", 3)));
    EXPECT_FALSE(constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "xbc"));
    EXPECT_FALSE(constant_time_equal("abc", "ab"));
    EXPECT_FALSE(constant_time_equal("", "a"));
}

TEST(CryptoPrimitives, RandomNonceAndBytes) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        const std::string n = random_nonce();
        EXPECT_EQ(n.size(), 32u);
        EXPECT_TRUE(lower_hex(n));
        EXPECT_TRUE(seen.insert(n).second);
    }
    EXPECT_EQ(random_bytes(0).size(), 0u);
    EXPECT_EQ(random_bytes(33).size(), 33u);
    EXPECT_NE(random_bytes(32), random_bytes(32));
}

TEST(CryptoPrimitives, SecureWipe) {
    std::string s(40, 'k');
    secure_wipe(s);
    EXPECT_TRUE(s.empty());
    secure_wipe(s);
    EXPECT_TRUE(s.empty());
}

// ---- machine tokens ----------------------------------------------------------------------------------

const char* const kUrl = "https://dest.example.org/blog";
const char* const kSite = "Destination Blog";
constexpr int64_t kExpiry = 1893456000;  // 2030-01-01

TEST(CryptoToken, RoundTrip) {
    TokenInfo made;
    const std::string token = make_token(kUrl, kSite, kExpiry, &made);
    EXPECT_EQ(token.rfind("sl1.", 0), 0u);
    EXPECT_TRUE(only_token_chars(token));
    EXPECT_EQ(made.version, "sl1");
    EXPECT_EQ(made.url, kUrl);
    EXPECT_EQ(made.site_name, kSite);
    EXPECT_EQ(made.expires_at, kExpiry);
    EXPECT_EQ(made.token_id.size(), 32u);
    EXPECT_TRUE(lower_hex(made.token_id));
    EXPECT_EQ(made.secret.size(), 32u);
    // The last part is exactly the secret.
    EXPECT_EQ(token.substr(token.rfind('.') + 1), base64url_encode(made.secret));
    EXPECT_EQ(token.substr(token.rfind('.') + 1).size(), 43u);

    const TokenInfo parsed = parse_token(token);
    EXPECT_EQ(parsed.version, made.version);
    EXPECT_EQ(parsed.url, made.url);
    EXPECT_EQ(parsed.site_name, made.site_name);
    EXPECT_EQ(parsed.token_id, made.token_id);
    EXPECT_EQ(parsed.expires_at, made.expires_at);
    EXPECT_EQ(parsed.secret, made.secret);

    // out is optional; every token is new.
    const std::string other = make_token(kUrl, kSite, kExpiry, nullptr);
    EXPECT_NE(other, token);
    const TokenInfo p2 = parse_token(other);
    EXPECT_NE(p2.token_id, made.token_id);
    EXPECT_NE(p2.secret, made.secret);
}

TEST(CryptoToken, PayloadIsDocumentedJson) {
    TokenInfo made;
    const std::string token = make_token("http://10.0.0.5:8080", "x", 42, &made);
    const size_t a = token.find('.');
    const size_t b = token.find('.', a + 1);
    std::string payload;
    ASSERT_TRUE(base64url_decode(token.substr(a + 1, b - a - 1), payload));
    EXPECT_EQ(payload, "{\"e\":42,\"i\":\"" + made.token_id + "\",\"n\":\"x\",\"u\":\"http://10.0.0.5:8080\",\"v\":1}");
}

TEST(CryptoToken, UnicodeSiteNameAndAllSafeAlphabet) {
    const std::string site = "Caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x9a\x80 \"quoted\" \\ </script>";
    for (int i = 0; i < 50; ++i) {
        TokenInfo made;
        const std::string token = make_token("https://xn--caf-dma.example/", site, kExpiry + i, &made);
        ASSERT_TRUE(only_token_chars(token)) << "token " << i;
        const TokenInfo parsed = parse_token(token);
        EXPECT_EQ(parsed.site_name, site);
        EXPECT_EQ(parsed.expires_at, kExpiry + i);
    }
}

TEST(CryptoToken, SurroundingWhitespaceAccepted) {
    TokenInfo made;
    const std::string token = make_token(kUrl, kSite, kExpiry, &made);
    for (const std::string& wrapped :
         {" " + token, token + "\n", "\r\n\t " + token + " \r\n", "\v\f" + token + "\t\t"}) {
        const TokenInfo parsed = parse_token(wrapped);
        EXPECT_EQ(parsed.secret, made.secret);
        EXPECT_EQ(parsed.token_id, made.token_id);
    }
}

TEST(CryptoToken, MakeTokenRefusals) {
    auto refused = [](const std::string& url, const std::string& site, int64_t e) {
        try {
            make_token(url, site, e, nullptr);
        } catch (const Error& err) {
            EXPECT_EQ(err.kind(), ErrorKind::usage);
            return true;
        }
        return false;
    };
    EXPECT_TRUE(refused("ftp://dest.example", kSite, kExpiry));
    EXPECT_TRUE(refused("dest.example", kSite, kExpiry));
    EXPECT_TRUE(refused("https://", kSite, kExpiry));
    EXPECT_TRUE(refused("https:///path", kSite, kExpiry));
    EXPECT_TRUE(refused("https://dest example", kSite, kExpiry));
    EXPECT_TRUE(refused(kUrl, "", kExpiry));
    EXPECT_TRUE(refused(kUrl, "line\nbreak", kExpiry));
    EXPECT_TRUE(refused(kUrl, "bad \xff utf8", kExpiry));
    EXPECT_TRUE(refused(kUrl, "overlong \xc0\xaf", kExpiry));
    EXPECT_TRUE(refused(kUrl, "surrogate \xed\xa0\x80", kExpiry));
    EXPECT_TRUE(refused(kUrl, std::string(1025, 'a'), kExpiry));
    EXPECT_TRUE(refused(kUrl, kSite, 0));
    EXPECT_TRUE(refused(kUrl, kSite, -5));
    EXPECT_FALSE(refused(kUrl, std::string(1024, 'a'), kExpiry));
}

// Builds a token from an arbitrary payload and secret.
std::string build_token(const std::string& payload_json, const std::string& secret, const char* prefix = "sl1.") {
    return prefix + base64url_encode(payload_json) + "." + base64url_encode(secret);
}

std::string payload_with(const std::string& e, const std::string& i, const std::string& n, const std::string& u,
                         const std::string& v) {
    std::string s = "{";
    bool first = true;
    auto add = [&](const char* key, const std::string& val) {
        if (val.empty()) return;  // empty = field missing
        if (!first) s += ",";
        first = false;
        s += "\"" + std::string(key) + "\":" + val;
    };
    add("e", e);
    add("i", i);
    add("n", n);
    add("u", u);
    add("v", v);
    return s + "}";
}

class CryptoTokenRefusal : public ::testing::Test {
protected:
    void SetUp() override {
        secret_ = std::string(32, '\0');
        for (int k = 0; k < 32; ++k) secret_[k] = static_cast<char>(0xa0 + k);
        secret_b64_ = base64url_encode(secret_);
        id_ = "\"00112233445566778899aabbccddeeff\"";
        good_payload_ = payload_with("1893456000", id_, "\"Site\"", "\"https://d.example\"", "1");
    }

    // Expects parse_token to refuse `token` with a usage error that quotes neither the secret nor the token.
    void expect_refused(const std::string& token, const char* label) {
        SCOPED_TRACE(label);
        try {
            parse_token(token);
            ADD_FAILURE() << "accepted: " << label;
        } catch (const Error& e) {
            const std::string msg = e.what();
            EXPECT_EQ(e.kind(), ErrorKind::usage);
            EXPECT_EQ(msg.rfind("the machine token is malformed: ", 0), 0u) << msg;
            EXPECT_EQ(msg.find(secret_b64_), std::string::npos) << msg;
            EXPECT_EQ(msg.find(secret_b64_.substr(0, 16)), std::string::npos) << msg;
            if (token.size() >= 8) {
                EXPECT_EQ(msg.find(token), std::string::npos) << msg;
            }
            EXPECT_EQ(msg.find(secret_), std::string::npos);
        } catch (...) {
            ADD_FAILURE() << "wrong exception type: " << label;
        }
    }

    std::string secret_;
    std::string secret_b64_;
    std::string id_;
    std::string good_payload_;
};

TEST_F(CryptoTokenRefusal, BaselineIsAccepted) {
    const TokenInfo t = parse_token(build_token(good_payload_, secret_));
    EXPECT_EQ(t.secret, secret_);
    EXPECT_EQ(t.url, "https://d.example");
    // Field order and JSON spacing are free.
    const std::string reordered = "{ \"v\": 1, \"u\": \"https://d.example\", \"n\": \"Site\", \"i\": " + id_ +
                                  ", \"e\": 1893456000 }";
    EXPECT_EQ(parse_token(build_token(reordered, secret_)).site_name, "Site");
}

TEST_F(CryptoTokenRefusal, EmptyAndGarbage) {
    expect_refused("", "empty");
    expect_refused(" \t\r\n ", "whitespace only");
    expect_refused("hello", "word");
    expect_refused("hello world, this is not a token", "sentence");
    expect_refused("sl1.", "prefix only");
    expect_refused("sl1..", "empty parts");
    expect_refused("sl1.." + secret_b64_, "empty payload");
    expect_refused("sl1." + base64url_encode(good_payload_) + ".", "empty secret");
    expect_refused("sl1." + base64url_encode(good_payload_), "two parts");
    expect_refused(build_token(good_payload_, secret_) + ".x", "four parts");
    expect_refused(std::string("sl1.\x00\x01\x02", 7), "binary");
    expect_refused(std::string(9000, 'A'), "too long");
    expect_refused("sl1." + std::string(9000, 'A') + "." + secret_b64_, "too long payload");
}

TEST_F(CryptoTokenRefusal, WrongPrefix) {
    const std::string good = build_token(good_payload_, secret_);
    expect_refused("sl2." + good.substr(4), "sl2");
    expect_refused("SL1." + good.substr(4), "upper case");
    expect_refused(good.substr(4), "no prefix");
    expect_refused("xsl1." + good.substr(4), "leading junk");
    expect_refused("sl1-" + good.substr(4), "wrong separator");
}

TEST_F(CryptoTokenRefusal, BadCharactersAndBase64) {
    const std::string good = build_token(good_payload_, secret_);
    std::string t = good;
    t[t.size() - 5] = '+';
    expect_refused(t, "plus in secret");
    expect_refused(good + "=", "padding");
    t = good;
    t.insert(good.size() / 2, "\n");
    expect_refused(t, "line break inside");
    t = good;
    t.insert(good.size() / 2, " ");
    expect_refused(t, "space inside");
    // Non-canonical secret encoding: the 43rd character carries 2 unused bits.
    t = good;
    t.back() = (t.back() == 'B') ? 'C' : 'B';
    expect_refused(t, "stray bits in secret");
    // Payload whose length % 4 == 1.
    const std::string p = base64url_encode(good_payload_);
    const std::string p_bad = (p.size() % 4 == 0) ? p + "A" : p.substr(0, p.size() - (p.size() % 4) + 1);
    expect_refused("sl1." + p_bad + "." + secret_b64_, "payload length");
    // Non-ASCII (e.g. a typographic dash from a word processor).
    t = good;
    t.insert(10, "\xe2\x80\x93");
    expect_refused(t, "en dash");
}

TEST_F(CryptoTokenRefusal, SecretLength) {
    expect_refused(build_token(good_payload_, secret_.substr(0, 31)), "31 bytes");
    expect_refused(build_token(good_payload_, secret_ + "x"), "33 bytes");
    expect_refused(build_token(good_payload_, secret_.substr(0, 16)), "16 bytes");
    expect_refused(build_token(good_payload_, secret_.substr(0, 1)), "1 byte");
}

TEST_F(CryptoTokenRefusal, MissingAndExtraFields) {
    const std::string n = "\"Site\"", u = "\"https://d.example\"", e = "1893456000";
    expect_refused(build_token(payload_with("", id_, n, u, "1"), secret_), "no e");
    expect_refused(build_token(payload_with(e, "", n, u, "1"), secret_), "no i");
    expect_refused(build_token(payload_with(e, id_, "", u, "1"), secret_), "no n");
    expect_refused(build_token(payload_with(e, id_, n, "", "1"), secret_), "no u");
    expect_refused(build_token(payload_with(e, id_, n, u, ""), secret_), "no v");
    expect_refused(build_token("{}", secret_), "empty object");
    std::string extra = good_payload_;
    extra.insert(1, "\"x\":1,");
    expect_refused(build_token(extra, secret_), "extra field");
    std::string dup = good_payload_;
    dup.insert(1, "\"u\":\"https://evil.example\",");
    expect_refused(build_token(dup, secret_), "duplicate field");
}

TEST_F(CryptoTokenRefusal, BadUrl) {
    const std::string e = "1893456000", n = "\"Site\"";
    for (const char* url : {"\"ftp://d.example\"", "\"javascript:alert(1)\"", "\"file:///etc/passwd\"",
                            "\"d.example\"", "\"https://\"", "\"http:///x\"", "\"HTTPS://d.example\"",
                            "\"https://d.example/a b\"", "\"https://d.example/\\u0000\"", "\"\"", "42",
                            "null", "[\"https://d.example\"]"}) {
        expect_refused(build_token(payload_with(e, id_, n, url, "1"), secret_), url);
    }
    const std::string long_url = "\"https://d.example/" + std::string(2100, 'a') + "\"";
    expect_refused(build_token(payload_with(e, id_, n, long_url, "1"), secret_), "long URL");
}

TEST_F(CryptoTokenRefusal, BadValues) {
    const std::string u = "\"https://d.example\"", n = "\"Site\"", e = "1893456000";
    expect_refused(build_token(payload_with(e, id_, n, u, "2"), secret_), "v=2");
    expect_refused(build_token(payload_with(e, id_, n, u, "\"1\""), secret_), "v string");
    expect_refused(build_token(payload_with(e, id_, n, u, "1.0"), secret_), "v float");
    expect_refused(build_token(payload_with("\"1893456000\"", id_, n, u, "1"), secret_), "e string");
    expect_refused(build_token(payload_with("-1", id_, n, u, "1"), secret_), "e negative");
    expect_refused(build_token(payload_with("0", id_, n, u, "1"), secret_), "e zero");
    expect_refused(build_token(payload_with("1.5", id_, n, u, "1"), secret_), "e float");
    expect_refused(build_token(payload_with("18446744073709551615", id_, n, u, "1"), secret_), "e too big");
    expect_refused(build_token(payload_with("1e400", id_, n, u, "1"), secret_), "e huge");
    expect_refused(build_token(payload_with(e, "\"0011\"", n, u, "1"), secret_), "short id");
    expect_refused(build_token(payload_with(e, "\"00112233445566778899AABBCCDDEEFF\"", n, u, "1"), secret_),
                   "upper-case id");
    expect_refused(build_token(payload_with(e, "\"00112233445566778899aabbccddeefg\"", n, u, "1"), secret_),
                   "non-hex id");
    expect_refused(build_token(payload_with(e, "7", n, u, "1"), secret_), "numeric id");
    expect_refused(build_token(payload_with(e, id_, "\"\"", u, "1"), secret_), "empty site name");
    expect_refused(build_token(payload_with(e, id_, "\"a\\nb\"", u, "1"), secret_), "newline in site name");
    expect_refused(build_token(payload_with(e, id_, "\"a\\u0000b\"", u, "1"), secret_), "NUL in site name");
    expect_refused(build_token(payload_with(e, id_, "1", u, "1"), secret_), "numeric site name");
    expect_refused(build_token(payload_with(e, id_, "\"\xff\"", u, "1"), secret_), "invalid UTF-8");
    expect_refused(build_token(payload_with(e, id_, "\"\\ud800\"", u, "1"), secret_), "lone surrogate");
}

TEST_F(CryptoTokenRefusal, PayloadNotAnObject) {
    expect_refused(build_token("[1,2,3]", secret_), "array");
    expect_refused(build_token("\"string\"", secret_), "string");
    expect_refused(build_token("not json", secret_), "text");
    expect_refused(build_token("{\"v\":1", secret_), "unterminated");
    expect_refused(build_token(good_payload_ + "x", secret_), "trailing junk");
    expect_refused(build_token(good_payload_ + "{}", secret_), "two objects");
    expect_refused(build_token("\xef\xbb\xbf" + good_payload_, secret_), "byte order mark");
    expect_refused(build_token(std::string(3000, '['), secret_), "array nesting");
    expect_refused(build_token("{\"x\":" + std::string(2000, '[') + std::string(2000, ']') + "}", secret_),
                   "deep nesting");
    expect_refused(build_token("{\"x\":" + std::string(3000, '['), secret_), "deep unterminated");
}

TEST(CryptoToken, ExpiryHelper) {
    TokenInfo t;
    t.expires_at = 1000;
    EXPECT_FALSE(token_expired(t, 0));
    EXPECT_FALSE(token_expired(t, 999));
    EXPECT_TRUE(token_expired(t, 1000));
    EXPECT_TRUE(token_expired(t, 1001));
    EXPECT_TRUE(token_expired(t, std::numeric_limits<int64_t>::max()));
    EXPECT_FALSE(token_expired(t, std::numeric_limits<int64_t>::min()));
    // parse_token does not judge expiry.
    const TokenInfo old = parse_token(make_token(kUrl, kSite, 1, nullptr));
    EXPECT_EQ(old.expires_at, 1);
    EXPECT_TRUE(token_expired(old, kExpiry));
}

TEST(CryptoToken, Fingerprint) {
    TokenInfo a;
    TokenInfo b;
    const std::string ta = make_token(kUrl, kSite, kExpiry, &a);
    make_token(kUrl, kSite, kExpiry, &b);
    const std::string fa = token_fingerprint(a);
    EXPECT_EQ(fa.size(), 12u);
    EXPECT_TRUE(lower_hex(fa));
    EXPECT_EQ(fa, Sha256::hex(a.token_id).substr(0, 12));
    EXPECT_EQ(fa, token_fingerprint(parse_token(ta)));
    EXPECT_NE(fa, token_fingerprint(b));
    EXPECT_EQ(ta.find(fa), std::string::npos);
    EXPECT_EQ(hex_encode(a.secret).find(fa), std::string::npos);
}

// ---- keys ------------------------------------------------------------------------------------------

TEST(CryptoKeys, DeterministicAndDistinct) {
    const std::string secret(32, '\x42');
    const std::string id1 = "00112233445566778899aabbccddeeff";
    const std::string id2 = "00112233445566778899aabbccddeefe";
    const Keys k1 = derive_keys(secret, id1);
    const Keys k1b = derive_keys(secret, id1);
    const Keys k2 = derive_keys(secret, id2);
    const Keys k3 = derive_keys(std::string(32, '\x43'), id1);
    EXPECT_EQ(k1.mac.size(), 32u);
    EXPECT_EQ(k1.enc.size(), 32u);
    EXPECT_EQ(k1.mac, k1b.mac);
    EXPECT_EQ(k1.enc, k1b.enc);
    EXPECT_NE(k1.mac, k1.enc);
    EXPECT_NE(k1.mac, k2.mac);
    EXPECT_NE(k1.enc, k2.enc);
    EXPECT_NE(k1.mac, k3.mac);
    EXPECT_NE(k1.enc, k3.enc);
    // The documented construction.
    EXPECT_EQ(k1.mac, hkdf_sha256(secret, id1, "sitelift v1 request mac", 32));
    EXPECT_EQ(k1.enc, hkdf_sha256(secret, id1, "sitelift v1 part encryption", 32));
}

TEST(CryptoKeys, Refusals) {
    EXPECT_THROW(derive_keys(std::string(31, 'x'), "id"), Error);
    EXPECT_THROW(derive_keys(std::string(33, 'x'), "id"), Error);
    EXPECT_THROW(derive_keys(std::string(32, 'x'), ""), Error);
}

TEST(CryptoKeys, SourceAndDestinationAgree) {
    TokenInfo dest;
    const std::string token = make_token(kUrl, kSite, kExpiry, &dest);
    const TokenInfo src = parse_token("  " + token + "\n");
    const Keys kd = derive_keys(dest.secret, dest.token_id);
    const Keys ks = derive_keys(src.secret, src.token_id);
    EXPECT_EQ(kd.mac, ks.mac);
    EXPECT_EQ(kd.enc, ks.enc);
}

// ---- request signing -------------------------------------------------------------------------------

struct Req {
    std::string method = "POST";
    std::string path = "/wp-json/sitelift/v1/push/part?job=abc&index=3";
    int64_t ts = 1700000000;
    std::string nonce = "0123456789abcdef0123456789abcdef";
    std::string body = Sha256::hex("part body");
};

const std::string kMacKey(32, '\x11');

TEST(CryptoSign, CanonicalString) {
    const Req r;
    EXPECT_EQ(canonical_request(r.method, r.path, r.ts, r.nonce, r.body),
              "sitelift-v1-request\nPOST\n/wp-json/sitelift/v1/push/part?job=abc&index=3\n1700000000\n"
              "0123456789abcdef0123456789abcdef\n" +
                  r.body);
    EXPECT_EQ(canonical_request("GET", "/", 0, r.nonce, r.body),
              "sitelift-v1-request\nGET\n/\n0\n0123456789abcdef0123456789abcdef\n" + r.body);
}

TEST(CryptoSign, RoundTripAndKnownConstruction) {
    const Req r;
    const std::string sig = sign_request(kMacKey, r.method, r.path, r.ts, r.nonce, r.body);
    EXPECT_EQ(sig.size(), 64u);
    EXPECT_TRUE(lower_hex(sig));
    EXPECT_EQ(sig, hex_encode(hmac_sha256(kMacKey, canonical_request(r.method, r.path, r.ts, r.nonce, r.body))));
    EXPECT_EQ(sig, sign_request(kMacKey, r.method, r.path, r.ts, r.nonce, r.body));
    EXPECT_TRUE(verify_request(kMacKey, r.method, r.path, r.ts, r.nonce, r.body, sig));

    // With keys derived from a real token.
    TokenInfo t;
    make_token(kUrl, kSite, kExpiry, &t);
    const Keys k = derive_keys(t.secret, t.token_id);
    const std::string nonce = random_nonce();
    const std::string s2 = sign_request(k.mac, "PUT", "/x", 5, nonce, Sha256::hex(""));
    EXPECT_TRUE(verify_request(k.mac, "PUT", "/x", 5, nonce, Sha256::hex(""), s2));
    EXPECT_FALSE(verify_request(kMacKey, "PUT", "/x", 5, nonce, Sha256::hex(""), s2));
}

TEST(CryptoSign, AnySingleChangeFails) {
    const Req r;
    const std::string sig = sign_request(kMacKey, r.method, r.path, r.ts, r.nonce, r.body);
    auto ok = [&](const std::string& m, const std::string& p, int64_t ts, const std::string& n, const std::string& b,
                  const std::string& s) { return verify_request(kMacKey, m, p, ts, n, b, s); };
    ASSERT_TRUE(ok(r.method, r.path, r.ts, r.nonce, r.body, sig));

    EXPECT_FALSE(ok("PUT", r.path, r.ts, r.nonce, r.body, sig));
    EXPECT_FALSE(ok("post", r.path, r.ts, r.nonce, r.body, sig));
    EXPECT_FALSE(ok(r.method, "/wp-json/sitelift/v1/push/part?job=abc&index=4", r.ts, r.nonce, r.body, sig));
    EXPECT_FALSE(ok(r.method, r.path + "&", r.ts, r.nonce, r.body, sig));
    EXPECT_FALSE(ok(r.method, r.path.substr(0, r.path.size() - 1), r.ts, r.nonce, r.body, sig));
    EXPECT_FALSE(ok(r.method, r.path, r.ts + 1, r.nonce, r.body, sig));
    EXPECT_FALSE(ok(r.method, r.path, r.ts - 1, r.nonce, r.body, sig));
    std::string n2 = r.nonce;
    n2[31] = 'e';
    EXPECT_FALSE(ok(r.method, r.path, r.ts, n2, r.body, sig));
    EXPECT_FALSE(ok(r.method, r.path, r.ts, r.nonce, Sha256::hex("part bodY"), sig));
    EXPECT_FALSE(ok(r.method, r.path, r.ts, r.nonce, r.body, std::string(64, '0')));

    // Every single signature character.
    for (size_t i = 0; i < sig.size(); ++i) {
        std::string s = sig;
        s[i] = (s[i] == '0') ? '1' : '0';
        EXPECT_FALSE(ok(r.method, r.path, r.ts, r.nonce, r.body, s)) << "position " << i;
    }
    // Signature length and form.
    EXPECT_FALSE(ok(r.method, r.path, r.ts, r.nonce, r.body, ""));
    EXPECT_FALSE(ok(r.method, r.path, r.ts, r.nonce, r.body, sig.substr(0, 63)));
    EXPECT_FALSE(ok(r.method, r.path, r.ts, r.nonce, r.body, sig.substr(0, 62)));
    EXPECT_FALSE(ok(r.method, r.path, r.ts, r.nonce, r.body, sig + "0"));
    EXPECT_FALSE(ok(r.method, r.path, r.ts, r.nonce, r.body, sig + "00"));
    EXPECT_FALSE(ok(r.method, r.path, r.ts, r.nonce, r.body, sig.substr(0, 32)));  // truncated MAC
    std::string upper = sig;
    for (char& c : upper)
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    ASSERT_NE(upper, sig);
    EXPECT_FALSE(ok(r.method, r.path, r.ts, r.nonce, r.body, upper));
    std::string raw;
    ASSERT_TRUE(hex_decode(sig, raw));
    EXPECT_FALSE(ok(r.method, r.path, r.ts, r.nonce, r.body, raw));  // raw bytes, not hex

    // Another key.
    EXPECT_FALSE(verify_request(std::string(32, '\x12'), r.method, r.path, r.ts, r.nonce, r.body, sig));
}

TEST(CryptoSign, InvalidFields) {
    const Req r;
    auto sign_refused = [&](const std::string& m, const std::string& p, int64_t ts, const std::string& n,
                            const std::string& b) {
        try {
            sign_request(kMacKey, m, p, ts, n, b);
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::usage);
            return true;
        }
        return false;
    };
    const std::string sig = sign_request(kMacKey, r.method, r.path, r.ts, r.nonce, r.body);
    struct Case {
        std::string m, p;
        int64_t ts;
        std::string n, b;
        const char* label;
    };
    const std::vector<Case> cases = {
        {"", r.path, r.ts, r.nonce, r.body, "empty method"},
        {"post", r.path, r.ts, r.nonce, r.body, "lower-case method"},
        {"PO\nST", r.path, r.ts, r.nonce, r.body, "newline in method"},
        {std::string(17, 'A'), r.path, r.ts, r.nonce, r.body, "long method"},
        {r.method, "", r.ts, r.nonce, r.body, "empty path"},
        {r.method, "wp-json/x", r.ts, r.nonce, r.body, "relative path"},
        {r.method, "/a\nPOST", r.ts, r.nonce, r.body, "newline in path"},
        {r.method, "/a b", r.ts, r.nonce, r.body, "space in path"},
        {r.method, "/caf\xc3\xa9", r.ts, r.nonce, r.body, "non-ASCII path"},
        {r.method, "/" + std::string(4096, 'a'), r.ts, r.nonce, r.body, "long path"},
        {r.method, r.path, -1, r.nonce, r.body, "negative timestamp"},
        {r.method, r.path, r.ts, "", r.body, "empty nonce"},
        {r.method, r.path, r.ts, r.nonce.substr(1), r.body, "short nonce"},
        {r.method, r.path, r.ts, r.nonce + "\n", r.body, "newline in nonce"},
        {r.method, r.path, r.ts, "0123456789ABCDEF0123456789ABCDEF", r.body, "upper-case nonce"},
        {r.method, r.path, r.ts, r.nonce, r.body.substr(1), "short body hash"},
        {r.method, r.path, r.ts, r.nonce, r.body + "\n", "newline after body hash"},
        {r.method, r.path, r.ts, r.nonce, std::string(64, 'G'), "non-hex body hash"},
    };
    for (const Case& c : cases) {
        EXPECT_TRUE(sign_refused(c.m, c.p, c.ts, c.n, c.b)) << c.label;
        EXPECT_FALSE(verify_request(kMacKey, c.m, c.p, c.ts, c.n, c.b, sig)) << c.label;
    }
    EXPECT_THROW(sign_request(std::string(16, 'k'), r.method, r.path, r.ts, r.nonce, r.body), Error);
    EXPECT_THROW(verify_request("", r.method, r.path, r.ts, r.nonce, r.body, sig), Error);
}

TEST(CryptoSign, TimestampFresh) {
    const int64_t now = 1700000000;
    EXPECT_TRUE(timestamp_fresh(now, now));
    EXPECT_TRUE(timestamp_fresh(now - 300, now));
    EXPECT_TRUE(timestamp_fresh(now + 300, now));
    EXPECT_FALSE(timestamp_fresh(now - 301, now));
    EXPECT_FALSE(timestamp_fresh(now + 301, now));
    EXPECT_TRUE(timestamp_fresh(now - 30, now, 30));
    EXPECT_FALSE(timestamp_fresh(now - 31, now, 30));
    EXPECT_TRUE(timestamp_fresh(now, now, 0));
    EXPECT_FALSE(timestamp_fresh(now + 1, now, 0));
    EXPECT_FALSE(timestamp_fresh(now, now, -1));
    constexpr int64_t lo = std::numeric_limits<int64_t>::min();
    constexpr int64_t hi = std::numeric_limits<int64_t>::max();
    EXPECT_FALSE(timestamp_fresh(lo, hi));
    EXPECT_FALSE(timestamp_fresh(hi, lo));
    EXPECT_FALSE(timestamp_fresh(lo, now));
    EXPECT_FALSE(timestamp_fresh(hi, now));
    EXPECT_FALSE(timestamp_fresh(lo, hi, hi));  // distance 2^64 - 1
    EXPECT_TRUE(timestamp_fresh(0, hi, hi));
    EXPECT_FALSE(timestamp_fresh(-1, hi, hi));
    EXPECT_TRUE(timestamp_fresh(lo, -1, hi));
    EXPECT_TRUE(timestamp_fresh(hi, hi - 5, 5));
    EXPECT_TRUE(timestamp_fresh(lo, lo + 5, 5));
}

// ---- parts -----------------------------------------------------------------------------------------

const std::string kEncKey(32, '\x5a');
const std::string kJob = "job-0123456789abcdef";

uint64_t be64(const std::string& s, size_t off) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[off + i]);
    return v;
}

// The kind of the Error that fn throws (a test failure when it throws none).
template <typename Fn>
ErrorKind kind_of(Fn fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.kind();
    }
    ADD_FAILURE() << "no exception";
    return ErrorKind::state;
}

ErrorKind open_error(const std::string& key, const std::string& job, const std::string& sealed) {
    try {
        open_part(key, job, sealed);
    } catch (const Error& e) {
        return e.kind();
    }
    ADD_FAILURE() << "open_part accepted a bad part";
    return ErrorKind::usage;
}

// An independent reader/writer following the documented format with OpenSSL directly.
std::string reference_crypt(bool encrypt, const std::string& enc_key, const std::string& job_id,
                            const std::string& header13, const std::string& nonce, const std::string& in,
                            std::string* tag) {
    std::string info = "sitelift v1 part key";
    info.push_back('\0');
    info += job_id;
    const std::string key = hkdf_sha256(enc_key, "", info, 32);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    std::string out(in.size(), '\0');
    int len = 0;
    bool ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                                reinterpret_cast<const unsigned char*>(nonce.data()), encrypt ? 1 : 0) == 1;
    const std::string aad = header13 + job_id;
    ok = ok && EVP_CipherUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                                static_cast<int>(aad.size())) == 1;
    if (!in.empty())
        ok = ok && EVP_CipherUpdate(ctx, reinterpret_cast<unsigned char*>(&out[0]), &len,
                                    reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size())) == 1;
    if (!encrypt) ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, &(*tag)[0]) == 1;
    unsigned char fin[16];
    ok = ok && EVP_CipherFinal_ex(ctx, fin, &len) == 1;
    if (encrypt) {
        tag->assign(16, '\0');
        ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, &(*tag)[0]) == 1;
    }
    EVP_CIPHER_CTX_free(ctx);
    EXPECT_TRUE(ok);
    return out;
}

TEST(CryptoPart, RoundTripSizes) {
    std::string big(5u << 20, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
    const std::vector<std::string> plains = {"", "x", "hello world", std::string(1u << 20, 'z') + "!", big};
    uint64_t index = 0;
    for (const std::string& p : plains) {
        const bool last = (index % 2) == 1;
        const std::string sealed = seal_part(kEncKey, kJob, index, last, p);
        ASSERT_EQ(sealed.size(), p.size() + kPartOverhead);
        EXPECT_EQ(sealed.substr(0, 4), "SLP1");
        EXPECT_EQ(static_cast<unsigned char>(sealed[4]), last ? 1 : 0);
        EXPECT_EQ(be64(sealed, 5), index);
        EXPECT_EQ(be64(sealed, 17), index);  // nonce = 4 random bytes | index
        if (p.size() >= 16) {
            EXPECT_EQ(sealed.find(p.substr(0, 16)), std::string::npos);
        }
        const OpenedPart o = open_part(kEncKey, kJob, sealed);
        EXPECT_EQ(o.index, index);
        EXPECT_EQ(o.last, last);
        EXPECT_TRUE(o.plaintext == p) << "size " << p.size();
        ++index;
    }
    const std::string edge = seal_part(kEncKey, kJob, UINT64_MAX, true, "edge");
    const OpenedPart o = open_part(kEncKey, kJob, edge);
    EXPECT_EQ(o.index, UINT64_MAX);
    EXPECT_TRUE(o.last);
    EXPECT_EQ(o.plaintext, "edge");
}

// Sealing in the plaintext's own buffer (what a push does with its segments) gives a part that opens to the
// same bytes, including a buffer that already has room to spare or holds a previous part's capacity.
TEST(CryptoPart, SealedInPlaceOpensToThePlaintext) {
    std::string plain(3u << 20, '\0');
    for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<char>((i * 40503u) >> 7);
    for (const std::string& p : {std::string(), std::string("in place"), plain}) {
        std::string buf;
        buf.reserve(8u << 20);  // a reused buffer: larger than needed
        buf = p;
        seal_part_in_place(kEncKey, kJob, 77, false, buf);
        ASSERT_EQ(buf.size(), p.size() + kPartOverhead);
        if (p.size() >= 16) {
            EXPECT_EQ(buf.find(p.substr(0, 16)), std::string::npos);
        }
        const OpenedPart o = open_part(kEncKey, kJob, buf);
        EXPECT_EQ(o.index, 77u);
        EXPECT_FALSE(o.last);
        EXPECT_TRUE(o.plaintext == p) << "size " << p.size();
    }
}

// Opening in the sealed part's own buffer (what the destination does with a body it reads itself) gives the
// plaintext inside that buffer; a part that fails in any way leaves nothing behind in it, not even the
// decrypted bytes of a forged part.
TEST(CryptoPart, OpenedInPlaceHoldsThePlaintextOrNothing) {
    std::string big(2u << 20, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 11);
    for (const std::string& p : {std::string(), std::string("x"), std::string("in place, opened"), big}) {
        std::string buf = seal_part(kEncKey, kJob, 12, true, p);
        const OpenedPartView o = open_part_in_place(kEncKey, kJob, buf);
        EXPECT_EQ(o.index, 12u);
        EXPECT_TRUE(o.last);
        ASSERT_EQ(o.plaintext.size(), p.size());
        EXPECT_TRUE(o.plaintext == p) << "size " << p.size();
        if (!p.empty()) {
            EXPECT_EQ(o.plaintext.data(), buf.data() + kPartHeaderSize);  // no second buffer
        }
    }
    const std::string sealed = seal_part(kEncKey, kJob, 4, false, big);
    for (size_t at : {size_t(4), size_t(5), size_t(13), size_t(30), sealed.size() / 2, sealed.size() - 1}) {
        std::string buf = sealed;
        buf[at] = static_cast<char>(buf[at] ^ 0x20);
        EXPECT_EQ(kind_of([&] { open_part_in_place(kEncKey, kJob, buf); }), ErrorKind::security) << "byte " << at;
        EXPECT_TRUE(buf.empty()) << "byte " << at;
    }
    std::string wrong_job = sealed;
    EXPECT_EQ(kind_of([&] { open_part_in_place(kEncKey, "another job", wrong_job); }), ErrorKind::security);
    EXPECT_TRUE(wrong_job.empty());
    std::string garbage = "<html>502 Bad Gateway</html> and some more text";
    EXPECT_EQ(kind_of([&] { open_part_in_place(kEncKey, kJob, garbage); }), ErrorKind::archive);
    EXPECT_TRUE(garbage.empty());
    std::string truncated = sealed.substr(0, sealed.size() - 1);
    EXPECT_EQ(kind_of([&] { open_part_in_place(kEncKey, kJob, truncated); }), ErrorKind::security);
    EXPECT_TRUE(truncated.empty());
}

// A part sealed as a stream, fed in pieces of any size (none, one byte, more than the sealer's slice), is the
// part seal_part makes: it opens to the same bytes, and it reaches the sink as it is made.
TEST(CryptoPart, SealedAsAStreamOpensToThePlaintext) {
    std::string big(1u << 20, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 40503u) >> 5);
    for (const std::string& p : {std::string(), std::string("streamed"), big}) {
        for (size_t piece : {size_t(1), size_t(7), size_t(64u << 10), size_t(700u << 10)}) {
            if (p.size() > 4096 && piece == 1) continue;
            std::string sealed;
            size_t calls = 0;
            PartSealer sealer(kEncKey, kJob, 31, p.size() % 2 == 0, [&](const char* d, size_t n) {
                sealed.append(d, n);
                ++calls;
            });
            EXPECT_EQ(sealed.size(), kPartHeaderSize);  // the header is out before any plaintext
            sealer.update(p.data(), 0);
            for (size_t at = 0; at < p.size(); at += piece) sealer.update(p.data() + at, std::min(piece, p.size() - at));
            sealer.finish();
            ASSERT_EQ(sealed.size(), p.size() + kPartOverhead);
            EXPECT_EQ(sealer.sealed_bytes(), sealed.size());
            if (p.size() > (512u << 10)) {
                EXPECT_GT(calls, 4u);  // not held back until the end
            }
            const OpenedPart o = open_part(kEncKey, kJob, sealed);
            EXPECT_EQ(o.index, 31u);
            EXPECT_EQ(o.last, p.size() % 2 == 0);
            EXPECT_TRUE(o.plaintext == p) << "size " << p.size() << ", pieces of " << piece;
            EXPECT_EQ(kind_of([&] { sealer.update("x", 1); }), ErrorKind::usage);
            EXPECT_EQ(kind_of([&] { sealer.finish(); }), ErrorKind::usage);
        }
    }
    EXPECT_EQ(kind_of([&] { PartSealer(std::string(31, 'k'), kJob, 0, true, [](const char*, size_t) {}); }),
              ErrorKind::usage);
    EXPECT_EQ(kind_of([&] { PartSealer(kEncKey, "", 0, true, [](const char*, size_t) {}); }), ErrorKind::usage);
}

TEST(CryptoPart, MatchesDocumentedFormat) {
    const std::string plain = "documented format check";
    const std::string sealed = seal_part(kEncKey, kJob, 9, true, plain);
    const std::string header13 = sealed.substr(0, 13);
    const std::string nonce = sealed.substr(13, 12);
    std::string tag = sealed.substr(sealed.size() - 16);
    const std::string ct = sealed.substr(25, plain.size());
    EXPECT_EQ(reference_crypt(false, kEncKey, kJob, header13, nonce, ct, &tag), plain);

    // A part written by the reference with the same layout opens.
    std::string hdr("SLP1\x00", 5);
    hdr += std::string("\0\0\0\0\0\0\0\x07", 8);
    const std::string n2 = std::string("\x01\x02\x03\x04", 4) + hdr.substr(5, 8);
    std::string tag2;
    const std::string ct2 = reference_crypt(true, kEncKey, kJob, hdr, n2, "from the reference", &tag2);
    const OpenedPart o = open_part(kEncKey, kJob, hdr + n2 + ct2 + tag2);
    EXPECT_EQ(o.index, 7u);
    EXPECT_FALSE(o.last);
    EXPECT_EQ(o.plaintext, "from the reference");

    // Authenticated but with unknown flag bits: refused as an unsupported part, not as forged.
    std::string hdr3 = hdr;
    hdr3[4] = '\x03';
    std::string tag3;
    const std::string ct3 = reference_crypt(true, kEncKey, kJob, hdr3, n2, "future", &tag3);
    EXPECT_EQ(open_error(kEncKey, kJob, hdr3 + n2 + ct3 + tag3), ErrorKind::archive);
}

TEST(CryptoPart, EveryFlippedByteFails) {
    const std::string sealed = seal_part(kEncKey, kJob, 3, false, "small secret part");
    for (size_t pos = 0; pos < sealed.size(); ++pos) {
        for (unsigned char mask : {0x01, 0x80, 0xff}) {
            std::string bad = sealed;
            bad[pos] = static_cast<char>(bad[pos] ^ mask);
            const ErrorKind k = open_error(kEncKey, kJob, bad);
            // The magic is checked before anything else: a changed magic is "not a part at all".
            EXPECT_EQ(k, pos < 4 ? ErrorKind::archive : ErrorKind::security) << "position " << pos;
        }
    }
}

TEST(CryptoPart, EveryTruncationFails) {
    const std::string sealed = seal_part(kEncKey, kJob, 3, true, "small part to truncate");
    for (size_t len = 0; len < sealed.size(); ++len) {
        const ErrorKind k = open_error(kEncKey, kJob, sealed.substr(0, len));
        EXPECT_EQ(k, len < kPartOverhead ? ErrorKind::archive : ErrorKind::security) << "length " << len;
    }
    EXPECT_EQ(open_error(kEncKey, kJob, sealed + "x"), ErrorKind::security);
    // An empty part truncated to the bare overhead minus one.
    const std::string empty = seal_part(kEncKey, kJob, 0, true, "");
    EXPECT_EQ(empty.size(), kPartOverhead);
    EXPECT_EQ(open_error(kEncKey, kJob, empty.substr(0, kPartOverhead - 1)), ErrorKind::archive);
}

TEST(CryptoPart, WrongJobOrKey) {
    const std::string sealed = seal_part(kEncKey, kJob, 1, false, "payload");
    EXPECT_EQ(open_error(kEncKey, "job-0123456789abcdeF", sealed), ErrorKind::security);
    EXPECT_EQ(open_error(kEncKey, kJob + "x", sealed), ErrorKind::security);
    EXPECT_EQ(open_error(kEncKey, kJob.substr(1), sealed), ErrorKind::security);
    std::string key2 = kEncKey;
    key2[31] = static_cast<char>(key2[31] ^ 1);
    EXPECT_EQ(open_error(key2, kJob, sealed), ErrorKind::security);
    // Keys derived from two different tokens.
    TokenInfo a;
    TokenInfo b;
    make_token(kUrl, kSite, kExpiry, &a);
    make_token(kUrl, kSite, kExpiry, &b);
    const Keys ka = derive_keys(a.secret, a.token_id);
    const Keys kb = derive_keys(b.secret, b.token_id);
    const std::string s2 = seal_part(ka.enc, kJob, 0, true, "payload");
    EXPECT_EQ(open_part(ka.enc, kJob, s2).plaintext, "payload");
    EXPECT_EQ(open_error(kb.enc, kJob, s2), ErrorKind::security);
    EXPECT_EQ(open_error(ka.mac, kJob, s2), ErrorKind::security);
}

TEST(CryptoPart, SwappedIndexAndSplicing) {
    const std::string p0 = seal_part(kEncKey, kJob, 0, false, "part zero");
    const std::string p1 = seal_part(kEncKey, kJob, 1, true, "part one!");
    // Rewrite the index field of part 1 to 0 (and the reverse).
    std::string bad = p1;
    bad.replace(5, 8, p0.substr(5, 8));
    EXPECT_EQ(open_error(kEncKey, kJob, bad), ErrorKind::security);
    bad = p0;
    bad.replace(5, 8, p1.substr(5, 8));
    EXPECT_EQ(open_error(kEncKey, kJob, bad), ErrorKind::security);
    // Rewrite index and nonce together.
    bad = p1;
    bad.replace(5, 20, p0.substr(5, 20));
    EXPECT_EQ(open_error(kEncKey, kJob, bad), ErrorKind::security);
    // Clear the "last" flag of the final part.
    bad = p1;
    bad[4] = '\0';
    EXPECT_EQ(open_error(kEncKey, kJob, bad), ErrorKind::security);
    // Header of one part, body of the other (same length).
    bad = p0.substr(0, kPartHeaderSize) + p1.substr(kPartHeaderSize);
    EXPECT_EQ(open_error(kEncKey, kJob, bad), ErrorKind::security);
}

TEST(CryptoPart, FreshNonceEverySeal) {
    const std::string a = seal_part(kEncKey, kJob, 5, false, "same plaintext");
    const std::string b = seal_part(kEncKey, kJob, 5, false, "same plaintext");
    EXPECT_NE(a.substr(13, 12), b.substr(13, 12));
    EXPECT_NE(a.substr(25), b.substr(25));
    EXPECT_EQ(open_part(kEncKey, kJob, a).plaintext, open_part(kEncKey, kJob, b).plaintext);
    std::set<std::string> nonces;
    for (int i = 0; i < 200; ++i) nonces.insert(seal_part(kEncKey, kJob, 5, false, "").substr(13, 12));
    EXPECT_EQ(nonces.size(), 200u);
}

TEST(CryptoPart, UsageAndStructureErrors) {
    const std::string sealed = seal_part(kEncKey, kJob, 0, true, "x");
    EXPECT_EQ(kind_of([&] { seal_part(std::string(31, 'k'), kJob, 0, true, "x"); }), ErrorKind::usage);
    EXPECT_EQ(kind_of([&] { seal_part(kEncKey, "", 0, true, "x"); }), ErrorKind::usage);
    EXPECT_EQ(kind_of([&] { seal_part(kEncKey, std::string(257, 'j'), 0, true, "x"); }), ErrorKind::usage);
    EXPECT_EQ(kind_of([&] { open_part(std::string(33, 'k'), kJob, sealed); }), ErrorKind::usage);
    EXPECT_EQ(kind_of([&] { open_part(kEncKey, "", sealed); }), ErrorKind::usage);
    EXPECT_EQ(kind_of([&] { open_part(kEncKey, kJob, ""); }), ErrorKind::archive);
    EXPECT_EQ(kind_of([&] { open_part(kEncKey, kJob, "<html>502 Bad Gateway</html> and some more text"); }),
              ErrorKind::archive);
    const std::string long_job(256, 'j');
    EXPECT_EQ(open_part(kEncKey, long_job, seal_part(kEncKey, long_job, 2, false, "ok")).plaintext, "ok");
    // Messages carry no key material.
    try {
        open_part(kEncKey, kJob, sealed.substr(0, sealed.size() - 1));
        FAIL();
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("a part failed authentication"), std::string::npos);
        EXPECT_EQ(msg.find(kEncKey), std::string::npos);
        EXPECT_EQ(msg.find(hex_encode(kEncKey)), std::string::npos);
    }
}

}  // namespace
