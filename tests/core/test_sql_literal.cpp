// SQL literal encoding/decoding (no database needed).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "sql.hpp"

using namespace sitelift;

namespace {

std::string sql_quoted(std::string_view raw) {
    std::string out;
    append_sql_string(out, raw);
    return out;
}

std::string decoded(std::string_view literal) {
    std::string out;
    EXPECT_TRUE(decode_sql_string(literal, out)) << literal;
    return out;
}

}  // namespace

TEST(SqlLiteral, EscapesExactlyTheDangerousBytes) {
    EXPECT_EQ(sql_quoted(""), "''");
    EXPECT_EQ(sql_quoted("plain text"), "'plain text'");
    EXPECT_EQ(sql_quoted(std::string("a'b\\c\nd\re\0f\x1ag\"h\ti", 17)), "'a\\'b\\\\c\\nd\\re\\0f\\Zg\"h\ti'");
    EXPECT_EQ(sql_quoted("''"), "'\\'\\''");
    EXPECT_EQ(sql_quoted("\\"), "'\\\\'");
    // UTF-8 passes through untouched.
    EXPECT_EQ(sql_quoted("caf\xc3\xa9 \xf0\x9f\x98\x80"), "'caf\xc3\xa9 \xf0\x9f\x98\x80'");
}

TEST(SqlLiteral, AppendsToExistingBuffer) {
    std::string out = "x=";
    append_sql_string(out, "it's");
    out += ',';
    append_sql_hex(out, "\x01\xab");
    EXPECT_EQ(out, "x='it\\'s',0x01ab");
}

TEST(SqlLiteral, Hex) {
    std::string out;
    append_sql_hex(out, "");
    EXPECT_EQ(out, "''");
    out.clear();
    append_sql_hex(out, std::string("\x00\xff\x10 A", 5));
    EXPECT_EQ(out, "0x00ff102041");
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    out.clear();
    append_sql_hex(out, all);
    ASSERT_EQ(out.size(), 2u + 512u);
    for (int i = 0; i < 256; ++i) {
        char buf[3];
        snprintf(buf, sizeof buf, "%02x", i);
        EXPECT_EQ(out.substr(2 + 2 * i, 2), buf);
    }
}

TEST(SqlLiteral, RoundTripsEveryByte) {
    for (int i = 0; i < 256; ++i) {
        std::string one(1, static_cast<char>(i));
        EXPECT_EQ(decoded(sql_quoted(one)), one) << "byte " << i;
        std::string framed = "a" + one + "b" + one + one;
        EXPECT_EQ(decoded(sql_quoted(framed)), framed) << "byte " << i;
    }
    std::string all;
    for (int rep = 0; rep < 3; ++rep)
        for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    EXPECT_EQ(decoded(sql_quoted(all)), all);
}

TEST(SqlLiteral, RoundTripsRandomBinary) {
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> len(0, 400), byte(0, 255), pick(0, 9);
    const char specials[] = {'\0', '\'', '\\', '\n', '\r', '\x1a', '"', '%', '_', 'Z'};
    std::string s, lit, back;
    for (int n = 0; n < 3000; ++n) {
        s.clear();
        int l = len(rng);
        for (int i = 0; i < l; ++i)
            s += pick(rng) < 4 ? specials[byte(rng) % sizeof specials] : static_cast<char>(byte(rng));
        lit.clear();
        append_sql_string(lit, s);
        ASSERT_TRUE(decode_sql_string(lit, back));
        ASSERT_EQ(back, s);
    }
}

TEST(SqlLiteral, RoundTripsTextWithEmojiAndQuotes) {
    const std::string samples[] = {
        "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd family \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9",
        "O'Reilly \"quoted\" back\\slash \\' \\\\' ''",
        "a:2:{s:3:\"url\";s:22:\"https://old.example/\";i:0;s:0:\"\";}",
        "{\"a\":\"b\\\"c\",\"u\":\"\\u00e9\\/\"}",
        "line1\r\nline2\n\ttabbed\x1a\x00end",
        std::string("nul\0inside", 10),
        "100% _match_ \\% \\_",
    };
    for (const auto& s : samples) EXPECT_EQ(decoded(sql_quoted(s)), s);
}

TEST(SqlLiteral, DecodesHandWrittenLiterals) {
    EXPECT_EQ(decoded("''"), "");
    EXPECT_EQ(decoded("\"\""), "");
    EXPECT_EQ(decoded("'it''s'"), "it's");
    EXPECT_EQ(decoded("'it\\'s'"), "it's");
    EXPECT_EQ(decoded("\"say \"\"hi\"\"\""), "say \"hi\"");
    EXPECT_EQ(decoded("\"it's\""), "it's");
    EXPECT_EQ(decoded("'a\"b'"), "a\"b");
    EXPECT_EQ(decoded("'\"\"'"), "\"\"");  // doubling only applies to the enclosing quote
    EXPECT_EQ(decoded("\"''\""), "''");
    EXPECT_EQ(decoded("'\\0\\'\\\"\\b\\n\\r\\t\\Z\\\\'"), std::string("\0'\"\b\n\r\t\x1a\\", 9));
    // \% and \_ keep their backslash (as MySQL does); any other escaped character stands for itself.
    EXPECT_EQ(decoded("'50\\% of a\\_b'"), "50\\% of a\\_b");
    EXPECT_EQ(decoded("'\\q\\x\\y\\z\\B\\N\\T'"), "qxyzBNT");
    EXPECT_EQ(decoded("'\\\xc3\xa9'"), "\xc3\xa9");
    EXPECT_EQ(decoded("''''"), "'");
    EXPECT_EQ(decoded("'\\''"), "'");
    EXPECT_EQ(decoded("'a;b -- c /*d*/'"), "a;b -- c /*d*/");
}

TEST(SqlLiteral, RejectsMalformedLiterals) {
    std::string out;
    const char* bad[] = {
        "",          "'",       "\"",     "abc",       "'abc",     "abc'",    "'abc\"",  "\"abc'",
        "'a'b'",     "'''",     "'\\'",   "'abc\\'",   "x'41'",    "0x41",    "N'abc'",  " 'a'",
        "'a' ",      "'a''b''", "`a`",    "'a'\"b\"",  "\"a\"b\"", "'\\\\\\'",
    };
    for (const char* b : bad) EXPECT_FALSE(decode_sql_string(b, out)) << "accepted: " << b;
}
