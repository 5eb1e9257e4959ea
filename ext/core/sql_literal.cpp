// MySQL/MariaDB literal encoding and decoding.
#include <array>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "byte_scan.hpp"
#include "sql.hpp"

namespace sitelift {

namespace {

// For each byte: 0 when it goes into a single-quoted literal as is, otherwise the letter that follows the
// backslash. Exactly what mysql_real_escape_string() escapes apart from '"', which needs no escape between
// single quotes.
constexpr std::array<char, 256> make_escape_table() {
    std::array<char, 256> t{};
    t[0] = '0';
    t['\''] = '\'';
    t['\\'] = '\\';
    t['\n'] = 'n';
    t['\r'] = 'r';
    t[0x1a] = 'Z';
    return t;
}
constexpr std::array<char, 256> kEscape = make_escape_table();

// Decoded value of "\c" inside a literal; -1 for the two escapes MySQL keeps verbatim (\% and \_).
constexpr std::array<int, 256> make_unescape_table() {
    std::array<int, 256> t{};
    for (int i = 0; i < 256; ++i) t[i] = i;
    t['0'] = 0;
    t['b'] = '\b';
    t['n'] = '\n';
    t['r'] = '\r';
    t['t'] = '\t';
    t['Z'] = 0x1a;
    t['%'] = -1;
    t['_'] = -1;
    return t;
}
constexpr std::array<int, 256> kUnescape = make_unescape_table();

constexpr char kHexDigits[] = "0123456789abcdef";

constexpr char kNeedEscape[] = {'\0', '\'', '\\', '\n', '\r', '\x1a'};
constexpr char kSingleQuoteStops[] = {'\'', '\\'};
constexpr char kDoubleQuoteStops[] = {'"', '\\'};

}  // namespace

void append_sql_string(std::string& out, std::string_view raw) {
    out.reserve(out.size() + raw.size() + 2);
    out.push_back('\'');
    const char* p = raw.data();
    const char* const end = p + raw.size();
    for (;;) {
        const char* q = find_any(p, end, kNeedEscape);
        out.append(p, static_cast<size_t>(q - p));
        if (q == end) break;
        const char pair[2] = {'\\', kEscape[static_cast<unsigned char>(*q)]};
        out.append(pair, 2);
        p = q + 1;
    }
    out.push_back('\'');
}

void append_sql_hex(std::string& out, std::string_view raw) {
    if (raw.empty()) {
        out.append("''");
        return;
    }
    size_t old = out.size();
    out.resize(old + 2 + raw.size() * 2);
    char* w = &out[old];
    *w++ = '0';
    *w++ = 'x';
    for (unsigned char c : raw) {
        *w++ = kHexDigits[c >> 4];
        *w++ = kHexDigits[c & 15];
    }
}

bool decode_sql_string(std::string_view literal, std::string& out) {
    out.clear();
    if (literal.size() < 2) return false;
    const char q = literal.front();
    if ((q != '\'' && q != '"') || literal.back() != q) return false;
    const char* p = literal.data() + 1;
    const char* const end = literal.data() + literal.size() - 1;  // the closing quote
    out.reserve(literal.size() - 2);
    for (;;) {
        const char* s = q == '\'' ? find_any(p, end, kSingleQuoteStops) : find_any(p, end, kDoubleQuoteStops);
        out.append(p, static_cast<size_t>(s - p));
        if (s == end) return true;
        if (*s == '\\') {
            if (s + 1 == end) return false;  // the backslash escapes the closing quote: unterminated
            int d = kUnescape[static_cast<unsigned char>(s[1])];
            if (d < 0)
                out.append(s, 2);  // \% and \_ stay as written
            else
                out.push_back(static_cast<char>(d));
        } else {
            // Only a doubled quote may appear inside; a single one would end the literal early.
            if (s + 1 == end || s[1] != q) return false;
            out.push_back(q);
        }
        p = s + 2;
    }
}

}  // namespace sitelift
