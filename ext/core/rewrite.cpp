// Search-and-replace inside stored WordPress values; see rewrite.hpp for the rules.
//
// Shape of the work for one value:
//   1. Fast reject: one pass of a multi-lane byte-pair scanner (AVX2 or SSE2 on x86-64) looks for the
//      anchor of every search. No anchor anywhere -> return false, nothing allocated.
//   2. Otherwise the value is walked once and a list of edits (offset, length, replacement) against
//      the ORIGINAL bytes is collected: plain-text matches, vc_raw_html blocks, and for serialized data
//      the new byte length of every s:N:"..." whose content changed. Nothing is written yet, so an
//      abandoned interpretation (serialized data that turns out to be malformed, unsafe text) costs
//      only truncating the edit list.
//   3. The edits are applied in one pass into `out`.
#include "rewrite.hpp"

#include "error.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(SITELIFT_NO_SIMD)
#define SITELIFT_X86_SIMD 1
#include <immintrin.h>
#endif

namespace sitelift {

namespace {

using uchar = unsigned char;
constexpr size_t npos = static_cast<size_t>(-1);

// Serialized strings that hold serialized data are followed this many levels deep; deeper text is
// treated as plain (and so, holding s:N:" and a match, as unsafe).
constexpr int kMaxTextNesting = 64;
// Arrays/objects nested inside one serialized level (PHP's unserialize_max_depth default).
constexpr size_t kMaxContainerDepth = 4096;
// Largest distance between the two bytes of a scanner lane (LaneSet::kMaxDelta).
constexpr size_t kMaxLaneDelta = 8;

// Where page builders keep HTML encoded (see ENCODED BLOCKS in rewrite.hpp): WPBakery's raw HTML/JS blocks and
// Avada's code block. (Both hold '[' and '_' 7 bytes apart, so one scanner lane finds them.)
const char* const kBlockMarkers[] = {"[vc_raw_", "[fusion_code"};

// ---------------------------------------------------------------------------------------------
// Character classes and the logical characters used by the boundary rule.

inline bool is_digit(int c) { return c >= '0' && c <= '9'; }
inline bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// Continues a host name or path segment on its own: ASCII letters and digits, and any byte of a
// multibyte UTF-8 character (IDN hosts, non-ASCII path segments).
inline bool is_alnumish(int c) { return is_alpha(c) || is_digit(c) || c >= 0x80; }
inline bool is_joiner(int c) { return c == '-' || c == '.' || c == '_'; }
// Part of a host name or path segment.
inline bool is_word(int c) { return is_alnumish(c) || is_joiner(c); }

inline int hex_value(uchar c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
inline bool is_hex(uchar c) { return hex_value(c) >= 0; }
inline bool is_hex4(const uchar* p) { return is_hex(p[0]) && is_hex(p[1]) && is_hex(p[2]) && is_hex(p[3]); }
inline int hex4_value(const uchar* p) {
    return (hex_value(p[0]) << 12) | (hex_value(p[1]) << 8) | (hex_value(p[2]) << 4) | hex_value(p[3]);
}

// A logical character: %HH and \uHHHH escapes count as the character they encode (code points above
// ASCII as 0x80, "some non-ASCII character"). ch < 0 means there is none (start or end of the text).
struct LChar {
    int ch;
    size_t width;
};

inline LChar char_at(const uchar* p, size_t n, size_t i) {
    if (i >= n) return {-1, 0};
    const uchar c = p[i];
    if (c == '%' && i + 2 < n && is_hex(p[i + 1]) && is_hex(p[i + 2]))
        return {hex_value(p[i + 1]) * 16 + hex_value(p[i + 2]), 3};
    if (c == '\\' && i + 5 < n && p[i + 1] == 'u' && is_hex4(p + i + 2)) {
        const int code = hex4_value(p + i + 2);
        return {code < 0x80 ? code : 0x80, 6};
    }
    return {c, 1};
}

// The logical character that ends just before position i.
inline LChar char_before(const uchar* p, size_t i) {
    if (i == 0) return {-1, 0};
    if (i >= 3 && p[i - 3] == '%' && is_hex(p[i - 2]) && is_hex(p[i - 1]))
        return {hex_value(p[i - 2]) * 16 + hex_value(p[i - 1]), 3};
    if (i >= 6 && p[i - 6] == '\\' && p[i - 5] == 'u' && is_hex4(p + i - 4)) {
        const int code = hex4_value(p + i - 4);
        return {code < 0x80 ? code : 0x80, 6};
    }
    return {p[i - 1], 1};
}

// True when the text from position i on continues the host or path segment that a search ended in:
// an alphanumeric (or non-ASCII) character; a run of '-', '.', '_' followed by one; or ':' followed
// by a digit (a port: https://old.example:8080 is another origin).
inline bool continues_right(const uchar* p, size_t n, size_t i) {
    const LChar a = char_at(p, n, i);
    if (a.ch < 0) return false;
    if (is_alnumish(a.ch)) return true;
    if (is_joiner(a.ch)) {
        size_t j = i + a.width;
        LChar b = char_at(p, n, j);
        while (b.ch >= 0 && is_joiner(b.ch)) {
            j += b.width;
            b = char_at(p, n, j);
        }
        return b.ch >= 0 && is_alnumish(b.ch);
    }
    if (a.ch == ':') {
        const LChar b = char_at(p, n, i + a.width);
        return b.ch >= 0 && is_digit(b.ch);
    }
    return false;
}

// a == b for len bytes, inlined: searches are short (a URL in some escaping), where a call to memcmp
// costs more than the compare. Overlapping 8-byte words, so no byte outside either range is read.
inline bool equal_bytes(const uchar* a, const char* b, size_t len) {
    if (len >= 8) {
        uint64_t x, y;
        size_t i = 0;
        for (; i + 8 < len; i += 8) {
            std::memcpy(&x, a + i, 8);
            std::memcpy(&y, b + i, 8);
            if (x != y) return false;
        }
        std::memcpy(&x, a + len - 8, 8);
        std::memcpy(&y, b + len - 8, 8);
        return x == y;
    }
    if (len >= 4) {
        uint32_t x, y, u, w;
        std::memcpy(&x, a, 4);
        std::memcpy(&y, b, 4);
        std::memcpy(&u, a + len - 4, 4);
        std::memcpy(&w, b + len - 4, 4);
        return x == y && u == w;
    }
    for (size_t i = 0; i < len; ++i)
        if (a[i] != uchar(b[i])) return false;
    return true;
}

// Type letters that can start a serialized value ("a:", "O:", ..., "N;").
struct SerializedStarts {
    bool at[256] = {};
    constexpr SerializedStarts() {
        for (const char c : {'a', 'O', 'C', 's', 'S', 'E', 'i', 'd', 'b', 'r', 'R', 'N'}) at[uchar(c)] = true;
    }
};
constexpr SerializedStarts kSerializedStart{};

// ---------------------------------------------------------------------------------------------
// Patterns.

enum class LeftRule : uint8_t {
    none,               // search starts with a separator ('/', '"', ...): no check
    word,               // search starts inside a host/segment: the char before must not be a word char
    protocol_relative,  // search starts with "//" (in any escaping): the char before must be neither a
                        // word char nor '/'
};

struct Pattern {
    std::string search;
    std::string replace;
    LeftRule left = LeftRule::none;
    bool right_check = false;  // search ends in a word char: the text after must not continue it
    bool noop = false;         // search == replace: consumes its span, changes nothing
    bool marker = false;       // start of an encoded block (kBlockMarkers), not a replacement
};

// Logical character of a search at i, also decoding the JSON escape "\/" and the nested ones ("\\/",
// "\\\/": any run of backslashes before a '/').
LChar pattern_char_at(const std::string& s, size_t i) {
    const uchar* p = reinterpret_cast<const uchar*>(s.data());
    size_t j = i;
    while (j < s.size() && p[j] == '\\') ++j;
    if (j > i && j < s.size() && p[j] == '/') return {'/', j + 1 - i};
    return char_at(p, s.size(), i);
}

LChar pattern_last_char(const std::string& s) {
    const uchar* p = reinterpret_cast<const uchar*>(s.data());
    const size_t n = s.size();
    if (n >= 2 && p[n - 2] == '\\' && p[n - 1] == '/') return {'/', 2};
    return char_before(p, n);
}

void classify(Pattern& pat) {
    const LChar first = pattern_char_at(pat.search, 0);
    if (first.ch >= 0 && is_word(first.ch)) {
        pat.left = LeftRule::word;
    } else if (first.ch == '/') {
        const LChar second = pattern_char_at(pat.search, first.width);
        if (second.ch == '/') pat.left = LeftRule::protocol_relative;
    }
    const LChar last = pattern_last_char(pat.search);
    pat.right_check = last.ch >= 0 && is_word(last.ch);
}

// ---------------------------------------------------------------------------------------------
// Edits collected against the original bytes.

struct Edit {
    size_t pos;
    size_t len;
    const char* rep;  // a pattern's replacement, or nullptr: the replacement lives in Ctx::arena
    size_t rep_off;   // offset in the arena when rep is nullptr
    size_t rep_len;
};

// A growable array of trivially copyable T that keeps its first N elements inline: a value with a few
// matches (the usual case) is rewritten without touching the heap.
template <class T, size_t N>
class SmallVec {
public:
    SmallVec() = default;
    SmallVec(const SmallVec&) = delete;
    SmallVec& operator=(const SmallVec&) = delete;

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    T* data() { return data_; }
    const T* data() const { return data_; }
    T* begin() { return data_; }
    T* end() { return data_ + size_; }
    const T* begin() const { return data_; }
    const T* end() const { return data_ + size_; }
    T& operator[](size_t i) { return data_[i]; }
    const T& operator[](size_t i) const { return data_[i]; }

    void push_back(const T& v) {
        if (size_ == cap_) grow(size_ + 1);
        data_[size_++] = v;
    }
    void append(const T* p, size_t n) {
        if (size_ + n > cap_) grow(size_ + n);
        std::memcpy(static_cast<void*>(data_ + size_), p, n * sizeof(T));
        size_ += n;
    }
    void insert(size_t at, const T& v) {
        if (size_ == cap_) grow(size_ + 1);
        std::memmove(static_cast<void*>(data_ + at + 1), data_ + at, (size_ - at) * sizeof(T));
        data_[at] = v;
        ++size_;
    }
    void truncate(size_t n) {
        if (n < size_) size_ = n;
    }

private:
    void grow(size_t need) {
        const size_t cap = std::max(need, cap_ * 2);
        std::vector<T> bigger(cap);
        std::memcpy(static_cast<void*>(bigger.data()), data_, size_ * sizeof(T));
        heap_.swap(bigger);
        data_ = heap_.data();
        cap_ = cap;
    }

    T inline_[N];
    std::vector<T> heap_;
    T* data_ = inline_;
    size_t size_ = 0;
    size_t cap_ = N;
};

struct Ctx {
    SmallVec<Edit, 16> edits;
    SmallVec<char, 128> arena;
    bool unsafe = false;

    const char* rep_data(const Edit& e) const { return e.rep ? e.rep : arena.data() + e.rep_off; }

    void push_owned(size_t pos, size_t len, std::string_view rep) {
        const size_t off = arena.size();
        arena.append(rep.data(), rep.size());
        edits.push_back({pos, len, nullptr, off, rep.size()});
    }
};

// Calls sink(ptr, len) for every piece of the edited text, in order.
template <class Sink>
void for_each_piece(std::string_view src, const Ctx& ctx, size_t first_edit, Sink&& sink) {
    size_t at = 0;
    for (size_t k = first_edit; k < ctx.edits.size(); ++k) {
        const Edit& e = ctx.edits[k];
        if (e.pos > at) sink(src.data() + at, e.pos - at);
        if (e.rep_len) sink(ctx.rep_data(e), e.rep_len);
        at = e.pos + e.len;
    }
    if (at < src.size()) sink(src.data() + at, src.size() - at);
}

// Output size change of edits [first, end).
long long edits_delta(const Ctx& ctx, size_t first) {
    long long d = 0;
    for (size_t k = first; k < ctx.edits.size(); ++k)
        d += static_cast<long long>(ctx.edits[k].rep_len) - static_cast<long long>(ctx.edits[k].len);
    return d;
}

// out = src with all of ctx's edits applied; delta: edits_delta(ctx, 0). Reserves rather than resizes: no
// zero-filling of bytes about to be written.
void apply_edits(std::string_view src, const Ctx& ctx, long long delta, std::string& out) {
    out.clear();
    out.reserve(static_cast<size_t>(static_cast<long long>(src.size()) + delta));
    for_each_piece(src, ctx, 0, [&](const char* d, size_t len) { out.append(d, len); });
}

// ---------------------------------------------------------------------------------------------
// Base64 and PHP's rawurlencode/rawurldecode, for the encoded blocks (WPBakery's vc_raw_html / vc_raw_js, Avada's fusion_code).

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(uchar c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

void b64_encode(std::string_view in, std::string& out) {
    out.clear();
    out.reserve((in.size() + 2) / 3 * 4);
    const uchar* p = reinterpret_cast<const uchar*>(in.data());
    size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8) | p[i + 2];
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += kB64[v & 63];
    }
    if (i + 1 == in.size()) {
        const uint32_t v = uint32_t(p[i]) << 16;
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        const uint32_t v = (uint32_t(p[i]) << 16) | (uint32_t(p[i + 1]) << 8);
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += '=';
    }
}

// Strict, canonical base64 only: length a multiple of 4, '=' only as final padding, unused bits zero.
// Exactly the strings that b64_encode(decoded) gives back unchanged.
bool b64_decode_canonical(std::string_view in, std::string& out) {
    if (in.empty() || in.size() % 4 != 0) return false;
    const uchar* p = reinterpret_cast<const uchar*>(in.data());
    size_t pad = 0;
    if (p[in.size() - 1] == '=') pad = (p[in.size() - 2] == '=') ? 2 : 1;
    out.clear();
    out.reserve(in.size() / 4 * 3);
    const size_t body = in.size() - (pad ? 4 : 0);
    for (size_t i = 0; i < body; i += 4) {
        const int a = b64_value(p[i]), b = b64_value(p[i + 1]), c = b64_value(p[i + 2]), d = b64_value(p[i + 3]);
        if ((a | b | c | d) < 0) return false;
        const uint32_t v = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | uint32_t(d);
        out += char(v >> 16);
        out += char((v >> 8) & 0xff);
        out += char(v & 0xff);
    }
    if (pad) {
        const size_t i = body;
        const int a = b64_value(p[i]), b = b64_value(p[i + 1]);
        if ((a | b) < 0) return false;
        if (pad == 2) {
            if (b & 0x0f) return false;
            out += char((a << 2) | (b >> 4));
        } else {
            const int c = b64_value(p[i + 2]);
            if (c < 0 || (c & 0x03)) return false;
            out += char((a << 2) | (b >> 4));
            out += char(((b & 0x0f) << 4) | (c >> 2));
        }
    }
    return true;
}

inline bool rawurl_unreserved(uchar c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.' || c == '~'; }

void rawurlencode_to(std::string_view in, std::string& out, bool upper = true) {
    const char* hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    out.clear();
    out.reserve(in.size() * 3);
    for (const char ch : in) {
        const uchar c = static_cast<uchar>(ch);
        if (rawurl_unreserved(c)) {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
}

// True when `in` is exactly what rawurlencode() produces for some text (unreserved bytes literal,
// everything else as %HH with upper-case hex), and sets out to that text.
bool rawurldecode_canonical(std::string_view in, std::string& out) {
    out.clear();
    out.reserve(in.size());
    const uchar* p = reinterpret_cast<const uchar*>(in.data());
    for (size_t i = 0; i < in.size(); ++i) {
        if (p[i] == '%') {
            if (i + 2 >= in.size()) return false;
            const uchar h = p[i + 1], l = p[i + 2];
            if (!((is_digit(h) || (h >= 'A' && h <= 'F')) && (is_digit(l) || (l >= 'A' && l <= 'F')))) return false;
            const uchar c = static_cast<uchar>(hex_value(h) * 16 + hex_value(l));
            if (rawurl_unreserved(c)) return false;
            out += char(c);
            i += 2;
        } else if (rawurl_unreserved(p[i])) {
            out += char(p[i]);
        } else {
            return false;
        }
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// Rough byte frequencies of WordPress database text, used only to choose rare anchor bytes.

double byte_weight(uchar c) {
    static const struct Table {
        double w[256];
        Table() {
            for (int i = 0; i < 256; ++i) w[i] = i >= 0x80 ? 1.0 : 0.1;
            const char* lower = "etaoinsrhldcumfpgwybvkxjqz";
            const double lw[] = {70, 55, 50, 50, 45, 45, 45, 40, 30, 30, 25, 22, 18, 17, 13, 15, 12, 12, 10, 9, 7, 5, 2, 1, 1, 1};
            for (int i = 0; lower[i]; ++i) {
                w[uchar(lower[i])] = lw[i];
                w[uchar(lower[i] - 'a' + 'A')] = std::max(0.5, lw[i] / 8);
            }
            for (int d = '0'; d <= '9'; ++d) w[d] = 5;
            w[uchar('0')] = 10, w[uchar('1')] = 10, w[uchar('2')] = 8;
            const char* punct = " \"<>/=:;.,-_\n\r\t{}\\%&#()'[]!?@+*|~^`$";
            const double pw[] = {120, 20, 10, 10, 12, 8, 8, 8, 10, 8, 6, 5, 6, 2, 2, 3, 3, 2, 1, 2, 2,
                                 2, 2, 3, 2, 2, 1, 1, 1, 1, 0.5, 0.3, 0.2, 0.1, 0.1, 0.5};
            for (int i = 0; punct[i]; ++i) w[uchar(punct[i])] = pw[i];
            double sum = 0;
            for (double v : w) sum += v;
            for (double& v : w) v /= sum;
        }
    } table;
    return table.w[c];
}

// One open array or object while parsing serialized data.
struct Container {
    uint64_t left;    // items (keys + values) still to read
    size_t start;     // offset of its first item (just after '{')
    uint64_t count;   // its number of elements
    bool is_array;    // a: (string keys are rewritten) rather than O: (property names are not)
    bool dirty;       // some string key of this array changed: check the keys for collisions at '}'
};

// Stack of the containers being parsed; no heap use below 32 levels.
class ItemStack {
public:
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    Container& top() { return at(size_ - 1); }
    void push(const Container& c) {
        if (size_ >= kInline) {
            if (heap_.size() < size_ - kInline + 1) heap_.resize(size_ - kInline + 1);
        }
        ++size_;
        top() = c;
    }
    void pop() { --size_; }

private:
    static constexpr size_t kInline = 32;
    Container& at(size_t i) { return i < kInline ? inline_[i] : heap_[i - kInline]; }
    Container inline_[kInline];
    std::vector<Container> heap_;
    size_t size_ = 0;
};

inline bool is_php_space(uchar c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\0' || c == '\x0b'; }

// The byte pairs the scanner looks for, in flat arrays for the vector loops.
struct LaneSet {
    static constexpr size_t kMax = 4;  // lanes handled by the vector loops; more go byte by byte
    static constexpr size_t kMaxDelta = 8;
    size_t count = 0;                  // lanes in the vector set (<= kMax)
    size_t max_delta = 0;              // over ALL lanes (bounds of the vector loads)
    uchar b1[kMax] = {}, b2[kMax] = {};
    size_t delta[kMax] = {};
#if defined(SITELIFT_X86_SIMD)
    __m128i v1[kMax] = {}, v2[kMax] = {};  // b1 and b2 in every byte, for short_candidates
#endif
};
static_assert(LaneSet::kMaxDelta == kMaxLaneDelta, "lane distance limits differ");

#if defined(SITELIFT_X86_SIMD)
// Vector part of the scan: the first candidate >= i of the vector set's lanes (true, *found set), or
// false with *resume = where a byte-by-byte tail must continue (n once the vector loops ran: they cover
// every position). Candidates of lanes beyond the vector set are not reported here; the caller checks
// those bytes itself.
template <size_t NV>
bool scan_sse2(const LaneSet& L, const uchar* p, size_t n, size_t i, size_t* found, size_t* resume) {
    if (n < L.max_delta + 16 || i >= n) {
        *resume = i;
        return false;
    }
    __m128i v1[NV], v2[NV];
    for (size_t l = 0; l < NV; ++l) {
        v1[l] = _mm_set1_epi8(static_cast<char>(L.b1[l]));
        v2[l] = _mm_set1_epi8(static_cast<char>(L.b2[l]));
    }
    auto block = [&](size_t at) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
        __m128i acc = _mm_and_si128(_mm_cmpeq_epi8(a, v1[0]),
                                    _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at + L.delta[0])), v2[0]));
        for (size_t l = 1; l < NV; ++l) {
            const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at + L.delta[l]));
            acc = _mm_or_si128(acc, _mm_and_si128(_mm_cmpeq_epi8(a, v1[l]), _mm_cmpeq_epi8(b, v2[l])));
        }
        return static_cast<unsigned>(_mm_movemask_epi8(acc));
    };
    const size_t last = n - L.max_delta - 16;
    for (; i <= last; i += 16) {
        if (const unsigned m = block(i)) {
            *found = i + static_cast<size_t>(__builtin_ctz(m));
            return true;
        }
    }
    if (i < last + 16) {  // one overlapping block for all lanes; positions before i are done
        const unsigned m = block(last) & ~((1u << (i - last)) - 1u);
        if (m) {
            *found = last + static_cast<size_t>(__builtin_ctz(m));
            return true;
        }
    }
    // Lanes of a shorter distance have positions beyond that block: one more block each, ending at the
    // lane's own last position (n - 1 - delta), so nothing is left for a byte-by-byte tail.
    const size_t lo = std::max(i, last + 16);
    size_t best = npos;
    for (size_t l = 0; l < NV; ++l) {
        const size_t at = n - 16 - L.delta[l];
        if (lo >= at + 16) continue;
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at + L.delta[l]));
        unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, v1[l]), _mm_cmpeq_epi8(b, v2[l]))));
        if (lo > at) m &= ~((1u << (lo - at)) - 1u);
        if (m) best = std::min(best, at + static_cast<size_t>(__builtin_ctz(m)));
    }
    if (best != npos) {
        *found = best;
        return true;
    }
    *resume = n;
    return false;
}

template <size_t NV>
__attribute__((target("avx2"))) inline uint32_t avx2_block(const LaneSet& L, const __m256i* v1, const __m256i* v2,
                                                           const uchar* p, size_t at) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + at));
    __m256i acc = _mm256_and_si256(
        _mm256_cmpeq_epi8(a, v1[0]),
        _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + at + L.delta[0])), v2[0]));
    for (size_t l = 1; l < NV; ++l) {
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + at + L.delta[l]));
        acc = _mm256_or_si256(acc, _mm256_and_si256(_mm256_cmpeq_epi8(a, v1[l]), _mm256_cmpeq_epi8(b, v2[l])));
    }
    return static_cast<uint32_t>(_mm256_movemask_epi8(acc));
}

template <size_t NV>
__attribute__((target("avx2"))) bool scan_avx2(const LaneSet& L, const uchar* p, size_t n, size_t i, size_t* found,
                                               size_t* resume) {
    if (n < L.max_delta + 32 || i >= n) return scan_sse2<NV>(L, p, n, i, found, resume);
    __m256i v1[NV], v2[NV];
    for (size_t l = 0; l < NV; ++l) {
        v1[l] = _mm256_set1_epi8(static_cast<char>(L.b1[l]));
        v2[l] = _mm256_set1_epi8(static_cast<char>(L.b2[l]));
    }
    const size_t last = n - L.max_delta - 32;
    // Two blocks per branch: long text without candidates is the common case.
    for (; i + 32 <= last; i += 64) {
        const uint32_t m0 = avx2_block<NV>(L, v1, v2, p, i);
        const uint32_t m1 = avx2_block<NV>(L, v1, v2, p, i + 32);
        if (m0 | m1) {
            *found = m0 ? i + static_cast<size_t>(__builtin_ctz(m0)) : i + 32 + static_cast<size_t>(__builtin_ctz(m1));
            return true;
        }
    }
    for (; i <= last; i += 32) {
        if (const uint32_t m = avx2_block<NV>(L, v1, v2, p, i)) {
            *found = i + static_cast<size_t>(__builtin_ctz(m));
            return true;
        }
    }
    if (i < last + 32) {  // one overlapping block for all lanes; positions before i are done
        const uint32_t m = avx2_block<NV>(L, v1, v2, p, last) & ~static_cast<uint32_t>((uint64_t(1) << (i - last)) - 1u);
        if (m) {
            *found = last + static_cast<size_t>(__builtin_ctz(m));
            return true;
        }
    }
    // Then one block per lane of a shorter distance, as in scan_sse2.
    const size_t lo = std::max(i, last + 32);
    size_t best = npos;
    for (size_t l = 0; l < NV; ++l) {
        const size_t at = n - 32 - L.delta[l];
        if (lo >= at + 32) continue;
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + at));
        const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + at + L.delta[l]));
        uint32_t m = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_and_si256(_mm256_cmpeq_epi8(a, v1[l]), _mm256_cmpeq_epi8(b, v2[l]))));
        if (lo > at) m &= ~static_cast<uint32_t>((uint64_t(1) << (lo - at)) - 1u);
        if (m) best = std::min(best, at + static_cast<size_t>(__builtin_ctz(m)));
    }
    if (best != npos) {
        *found = best;
        return true;
    }
    *resume = n;
    return false;
}

using ScanFn = bool (*)(const LaneSet&, const uchar*, size_t, size_t, size_t*, size_t*);

// Values of kShortMin..kShortMax bytes (most stored values that are not long text: dates, GUIDs, short
// URLs, JSON snippets) are scanned without a loop over the text: up to four overlapping 16-byte loads
// give, per lane, the positions of b1 and of b2 as bit masks, and the candidates are
// b1-mask & (b2-mask >> delta). Nothing outside p[0, n) is read.
constexpr size_t kShortMin = 16, kShortMax = 64;

template <size_t NV>
__attribute__((always_inline)) inline uint64_t short_candidates(const LaneSet& L, const uchar* p, size_t n) {
    uint64_t m1[NV] = {}, m2[NV] = {};
    for (size_t off = 0;; off += 16) {
        const size_t at = std::min(off, n - 16);
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at));
        for (size_t l = 0; l < NV; ++l) {
            m1[l] |= uint64_t(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, L.v1[l])))) << at;
            m2[l] |= uint64_t(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, L.v2[l])))) << at;
        }
        if (at + 16 >= n) break;
    }
    uint64_t c = 0;
    for (size_t l = 0; l < NV; ++l) {
        const size_t valid = n - L.delta[l];  // positions i with i + delta < n
        c |= m1[l] & (m2[l] >> L.delta[l]) & (valid >= 64 ? ~uint64_t(0) : (uint64_t(1) << valid) - 1);
    }
    return c;
}

__attribute__((always_inline)) inline uint64_t short_candidates(const LaneSet& L, const uchar* p, size_t n) {
    switch (L.count) {
        case 1: return short_candidates<1>(L, p, n);
        case 2: return short_candidates<2>(L, p, n);
        case 3: return short_candidates<3>(L, p, n);
        default: return short_candidates<4>(L, p, n);
    }
}

ScanFn pick_scan(size_t nv) {
    static const bool avx2 = __builtin_cpu_supports("avx2");
    switch (nv) {
        case 1: return avx2 ? scan_avx2<1> : scan_sse2<1>;
        case 2: return avx2 ? scan_avx2<2> : scan_sse2<2>;
        case 3: return avx2 ? scan_avx2<3> : scan_sse2<3>;
        default: return avx2 ? scan_avx2<4> : scan_sse2<4>;
    }
}
#endif

}  // namespace

// =============================================================================================

struct Rewriter::Impl {
    std::vector<std::pair<std::string, std::string>> pairs;  // as given (or as expanded by for_site_move)
    std::vector<Pattern> patterns;                             // the pairs plus the vc marker

    // Scanner lanes: a byte b1 at c and b2 at c + delta. Every pattern holds one lane's bytes at offset
    // lane_offset from its start.
    struct Member {
        uint32_t pattern;  // index in patterns
        uint32_t offset;   // of the lane's b1 in the search
        uint32_t len;      // of the search
        uint32_t head;     // first 4 bytes of the search (fewer: zero-padded), for a quick first check
        const char* search;
    };
    struct Lane {
        uchar b1, b2;
        uint8_t delta;
        std::vector<Member> members;
        // Members indexed by the text byte at candidate + disc (the relative position that best tells
        // them apart): bucket[bucket_begin[b] .. bucket_begin[b + 1]) for byte b; members without a byte
        // at that position are in `always`. Both lists keep the members' order.
        long disc = 0;
        std::vector<uint16_t> bucket, always;
        uint32_t bucket_begin[257] = {};
    };
    std::vector<Lane> lanes;
    size_t max_offset = 0;
    // For each pattern P, the patterns Q that could match at a start d >= 0 bytes before P's start while
    // overlapping P (Q's bytes from d on agree with P's), or at the same start being longer: once P
    // matches at the first candidate, only these can still win (see next_match).
    struct Rival {
        uint32_t pattern;
        uint32_t back;  // d
    };
    std::vector<std::vector<Rival>> rivals;
    size_t max_delta = 0;
    bool first_lane_byte[256] = {};  // b1 of some lane
    size_t min_value_len = 0;        // shorter values cannot change
    LaneSet vec;                     // the first LaneSet::kMax lanes, for the vector loops
#if defined(SITELIFT_X86_SIMD)
    ScanFn scan = nullptr;
#endif

    void build();
    void choose_lanes();
    void find_rivals();
    static void index_members(Lane& lane);

    // mask: the candidate bit mask of a value of kShortMin..kShortMax bytes as first_raw() computed it
    // (0: not computed; it is never 0 for a value with a hit), so that it is not computed again.
    size_t next_candidate(const uchar* p, size_t n, size_t from, uint64_t mask = 0) const;
    size_t first_raw(const uchar* p, size_t n, uint64_t* mask = nullptr) const;
    bool has_raw_occurrence(const uchar* p, size_t n) const { return first_raw(p, n) != npos; }
    bool boundaries_ok(const Pattern& pat, const uchar* p, size_t n, size_t s) const;
    // cand: where to look for candidates first (npos: at from); no candidate in [from, cand) verifies.
    bool next_match(const uchar* p, size_t n, size_t from, size_t cand, uint64_t mask, bool markers, size_t& at,
                    uint32_t& which) const;

    // first_hit: first_raw(v) when the caller has it already, npos when it has not looked.
    // mask: first_raw()'s candidate mask when it gave one (0: none).
    void process_text(std::string_view v, size_t base, int depth, Ctx& ctx, bool top, size_t first_hit,
                      uint64_t mask = 0) const;
    bool process_serialized(std::string_view v, size_t base, int depth, Ctx& ctx, bool top) const;
    // hit: first_raw(v) when known (npos: not known); no match begins before hit - max_offset.
    void process_plain(std::string_view v, size_t base, Ctx& ctx, bool markers, size_t hit = npos, uint64_t mask = 0) const;
    // Handles the encoded block whose marker is at s; returns how many bytes it covers (0: not a block).
    size_t process_block(std::string_view v, size_t s, size_t base, Ctx& ctx) const;
    // The rewritten form of html (plain text, no blocks inside), or false when nothing in it changes.
    bool rewrite_block_html(const std::string& html, Ctx& ctx, std::string& out) const;
};

void Rewriter::Impl::build() {
    patterns.clear();
    bool any_change = false;
    for (const auto& [search, replace] : pairs) {
        Pattern pat;
        pat.search = search;
        pat.replace = replace;
        pat.noop = search == replace;
        any_change = any_change || !pat.noop;
        classify(pat);
        patterns.push_back(std::move(pat));
    }
    if (any_change) {
        for (const char* marker : kBlockMarkers) {
            Pattern m;
            m.search = marker;
            m.marker = true;
            patterns.push_back(std::move(m));
        }
    }
    // A value changes only through a search, or through an encoded block whose decoded text holds one; an
    // encoding never makes text shorter, so no value shorter than the shortest search changes.
    min_value_len = SIZE_MAX;
    for (const Pattern& pat : patterns)
        if (!pat.noop && !pat.marker) min_value_len = std::min(min_value_len, pat.search.size());

    choose_lanes();
    find_rivals();
}

void Rewriter::Impl::find_rivals() {
    // Q is a rival of P at distance d when Q[d..] and P agree over their overlap: P is a prefix of Q[d..], or
    // Q[d..] is a proper prefix of P (then not at d = 0, where Q must be longer than P). Comparing every pair
    // of patterns at every distance made the build quadratic in the number of patterns (100 URL pairs in all
    // their forms, 2400 patterns: a second), so the searches go into a trie once and every suffix Q[d..] of
    // every pattern walks it: the patterns met on the way are prefixes of Q[d..], and where Q[d..] ends, the
    // patterns below that node are the longer ones it begins.
    rivals.assign(patterns.size(), {});
    struct Node {
        int32_t pattern = -1;     // the pattern whose search ends here
        uint32_t first = 0, end = 0;  // patterns ending at or below this node: by_order[first, end)
    };
    std::vector<Node> nodes(1);
    std::unordered_map<uint64_t, uint32_t> child;  // (node << 8 | byte) -> node
    auto step = [&](uint32_t node, uchar b) -> int64_t {
        const auto it = child.find(uint64_t(node) << 8 | b);
        return it == child.end() ? -1 : int64_t(it->second);
    };
    for (uint32_t pi = 0; pi < patterns.size(); ++pi) {
        uint32_t node = 0;
        for (const char ch : patterns[pi].search) {
            const uint64_t key = uint64_t(node) << 8 | uchar(ch);
            auto it = child.find(key);
            if (it == child.end()) {
                it = child.emplace(key, static_cast<uint32_t>(nodes.size())).first;
                nodes.emplace_back();
            }
            node = it->second;
        }
        nodes[node].pattern = static_cast<int32_t>(pi);  // searches are unique
    }
    // Depth-first order of the pattern-ending nodes, so that each node's subtree is one range of it (the
    // root ends no pattern: searches are not empty).
    std::vector<std::vector<std::pair<uchar, uint32_t>>> kids(nodes.size());
    for (const auto& [key, to] : child) kids[key >> 8].push_back({uchar(key & 0xff), to});
    std::vector<uint32_t> by_order;
    std::vector<std::pair<uint32_t, size_t>> stack{{0, 0}};
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < kids[node].size()) {
            const uint32_t to = kids[node][next++].second;
            nodes[to].first = static_cast<uint32_t>(by_order.size());
            if (nodes[to].pattern >= 0) by_order.push_back(static_cast<uint32_t>(nodes[to].pattern));
            stack.push_back({to, 0});
        } else {
            nodes[node].end = static_cast<uint32_t>(by_order.size());
            stack.pop_back();
        }
    }
    for (uint32_t qi = 0; qi < patterns.size(); ++qi) {
        const std::string& Q = patterns[qi].search;
        for (size_t d = 0; d < Q.size(); ++d) {
            uint32_t node = 0;
            size_t j = d;
            for (; j < Q.size(); ++j) {
                const int64_t to = step(node, uchar(Q[j]));
                if (to < 0) break;
                node = static_cast<uint32_t>(to);
                const int32_t pi = nodes[node].pattern;
                // P = Q[d..j]: a prefix of Q[d..] (at d = 0 a shorter P; P == Q is Q itself).
                if (pi >= 0 && static_cast<uint32_t>(pi) != qi) rivals[pi].push_back({qi, static_cast<uint32_t>(d)});
            }
            if (j < Q.size() || d == 0) continue;
            // Q[d..] ends at node: the longer patterns below it begin with it.
            for (uint32_t k = nodes[node].first; k < nodes[node].end; ++k) {
                const uint32_t pi = by_order[k];
                if (pi != qi && static_cast<int32_t>(pi) != nodes[node].pattern)
                    rivals[pi].push_back({qi, static_cast<uint32_t>(d)});
            }
        }
    }
    for (auto& list : rivals)
        std::sort(list.begin(), list.end(), [](const Rival& x, const Rival& y) {
            return x.pattern != y.pattern ? x.pattern < y.pattern : x.back < y.back;
        });
}

// Greedy set cover: repeatedly take the byte pair (b1, b2 at distance delta) with the lowest expected
// scanning cost per pattern it covers, until every pattern holds one chosen pair. For a site move this
// typically ends with one lane for all URL forms (a rare pair inside the host name) and one for the path.
void Rewriter::Impl::choose_lanes() {
    lanes.clear();
    max_offset = 0;
    max_delta = 0;
    std::fill(std::begin(first_lane_byte), std::end(first_lane_byte), false);
    std::vector<bool> covered(patterns.size(), false);
    size_t left = patterns.size();
    auto key_of = [](uchar b1, uchar b2, size_t d) { return (uint32_t(b1) << 16) | (uint32_t(b2) << 8) | uint32_t(d); };
    while (left > 0) {
        struct Count {
            uint32_t n = 0;
            uint32_t last = UINT32_MAX;
        };
        std::unordered_map<uint32_t, Count> counts;
        for (uint32_t pi = 0; pi < patterns.size(); ++pi) {
            if (covered[pi]) continue;
            const std::string& s = patterns[pi].search;
            auto bump = [&](uint32_t key) {
                Count& c = counts[key];
                if (c.last != pi) {
                    c.last = pi;
                    ++c.n;
                }
            };
            if (s.size() == 1) {
                bump(key_of(uchar(s[0]), uchar(s[0]), 0));
                continue;
            }
            for (size_t o = 0; o + 1 < s.size(); ++o)
                for (size_t d = 1; d <= kMaxLaneDelta && o + d < s.size(); ++d) bump(key_of(uchar(s[o]), uchar(s[o + d]), d));
        }
        uint32_t best = 0;
        double best_score = 0;
        bool have = false;
        for (const auto& [key, c] : counts) {
            const uchar b1 = uchar(key >> 16), b2 = uchar(key >> 8);
            const size_t d = key & 0xff;
            // Chance that a text position is a candidate; adjacent bytes are correlated (bigrams), so
            // a pair at distance 1 counts as more likely than independence says.
            const double p = d == 0 ? byte_weight(b1) : byte_weight(b1) * byte_weight(b2) * (d == 1 ? 3.0 : 1.0);
            // Expected cost per text position: one more vector compare for the lane, plus for every
            // candidate a fixed cost and a verification per pattern in the lane. Divided by the number
            // of patterns it covers, greedy set cover picks the best.
            const double score = (0.4 + p * (40.0 + 8.0 * c.n)) / c.n;
            if (!have || score < best_score || (score == best_score && key < best)) {
                best = key;
                best_score = score;
                have = true;
            }
        }
        Lane lane;
        lane.b1 = uchar(best >> 16);
        lane.b2 = uchar(best >> 8);
        lane.delta = uint8_t(best & 0xff);
        for (uint32_t pi = 0; pi < patterns.size(); ++pi) {
            if (covered[pi]) continue;
            const std::string& s = patterns[pi].search;
            for (size_t o = 0; o + lane.delta < s.size(); ++o) {
                if (uchar(s[o]) == lane.b1 && uchar(s[o + lane.delta]) == lane.b2) {
                    uint32_t head = 0;
                    std::memcpy(&head, s.data(), std::min<size_t>(4, s.size()));
                    lane.members.push_back({pi, static_cast<uint32_t>(o), static_cast<uint32_t>(s.size()), head, s.data()});
                    covered[pi] = true;
                    --left;
                    max_offset = std::max(max_offset, o);
                    break;
                }
            }
        }
        // Earliest start first (largest offset), then longest.
        std::sort(lane.members.begin(), lane.members.end(), [](const Member& a, const Member& b) {
            return a.offset != b.offset ? a.offset > b.offset : a.len > b.len;
        });
        index_members(lane);
        max_delta = std::max<size_t>(max_delta, lane.delta);
        first_lane_byte[lane.b1] = true;
        lanes.push_back(std::move(lane));
    }
    vec = LaneSet{};
    vec.count = std::min(lanes.size(), LaneSet::kMax);
    vec.max_delta = max_delta;
    for (size_t l = 0; l < vec.count; ++l) {
        vec.b1[l] = lanes[l].b1;
        vec.b2[l] = lanes[l].b2;
        vec.delta[l] = lanes[l].delta;
#if defined(SITELIFT_X86_SIMD)
        vec.v1[l] = _mm_set1_epi8(static_cast<char>(lanes[l].b1));
        vec.v2[l] = _mm_set1_epi8(static_cast<char>(lanes[l].b2));
#endif
    }
#if defined(SITELIFT_X86_SIMD)
    scan = pick_scan(vec.count);
#endif
}

// Picks the position relative to the candidate whose byte splits the lane's members into the smallest
// groups (the URL forms of one host differ just before the host: '/', '\\', 'F', 'f' ...).
void Rewriter::Impl::index_members(Lane& lane) {
    long lo = 0, hi = 0;
    for (const Member& m : lane.members) {
        lo = std::min(lo, -static_cast<long>(m.offset));
        hi = std::max(hi, static_cast<long>(m.len) - static_cast<long>(m.offset));
    }
    size_t best_cost = SIZE_MAX;
    for (long r = lo; r < hi; ++r) {
        size_t count[256] = {}, always = 0, worst = 0;
        for (const Member& m : lane.members) {
            const long at = static_cast<long>(m.offset) + r;
            if (at < 0 || at >= static_cast<long>(m.len)) {
                ++always;
            } else {
                worst = std::max(worst, ++count[uchar(m.search[at])]);
            }
        }
        if (worst + always < best_cost) {
            best_cost = worst + always;
            lane.disc = r;
        }
    }
    std::vector<uint16_t> per[256];
    lane.always.clear();
    for (size_t k = 0; k < lane.members.size(); ++k) {
        const Member& m = lane.members[k];
        const long at = static_cast<long>(m.offset) + lane.disc;
        if (at < 0 || at >= static_cast<long>(m.len)) lane.always.push_back(static_cast<uint16_t>(k));
        else per[uchar(m.search[at])].push_back(static_cast<uint16_t>(k));
    }
    lane.bucket.clear();
    for (int b = 0; b < 256; ++b) {
        lane.bucket_begin[b] = static_cast<uint32_t>(lane.bucket.size());
        lane.bucket.insert(lane.bucket.end(), per[b].begin(), per[b].end());
    }
    lane.bucket_begin[256] = static_cast<uint32_t>(lane.bucket.size());
}

// First position c >= from at which some lane's pair occurs (p[c] == b1 and p[c + delta] == b2).
size_t Rewriter::Impl::next_candidate(const uchar* p, size_t n, size_t from, uint64_t mask) const {
    (void)mask;  // made and used by the vector paths only
    if (lanes.empty()) return npos;
    size_t i = from;
#if defined(SITELIFT_X86_SIMD)
    if (lanes.size() > vec.count) {
        // More lanes than the vector loops take (many unrelated literal pairs): vector-scan the first
        // ones, and check the others byte by byte up to the vector candidate.
        size_t found = npos, resume = 0;
        const size_t vend = scan(vec, p, n, i, &found, &resume) ? found : resume;
        for (; i < vend; ++i) {
            if (!first_lane_byte[p[i]]) continue;
            for (size_t l = vec.count; l < lanes.size(); ++l)
                if (p[i] == lanes[l].b1 && i + lanes[l].delta < n && p[i + lanes[l].delta] == lanes[l].b2) return i;
        }
        if (found != npos) return found;
        i = vend;
    } else if (n > kShortMax) {
        size_t found, resume;
        if (scan(vec, p, n, i, &found, &resume)) return found;
        i = resume;
    } else if (n >= kShortMin) {
        if (from >= n) return npos;
        // (A mask is given only for values of this size: first_raw() made it here.)
        const uint64_t m = (mask ? mask : short_candidates(vec, p, n)) & (~uint64_t(0) << from);
        return m ? static_cast<size_t>(__builtin_ctzll(m)) : npos;
    }
    // (Fewer bytes than one vector load: the byte loop below.)
#endif
    // Short values, the last positions, and machines without the vector loops.
    for (; i < n; ++i) {
        if (!first_lane_byte[p[i]]) continue;
        for (const Lane& l : lanes)
            if (p[i] == l.b1 && i + l.delta < n && p[i + l.delta] == l.b2) return i;
    }
    return npos;
}

// Where some search (or the vc marker) first occurs in p[0, n), ignoring boundaries: the first candidate
// that verifies (npos: none). No occurrence of any search starts before that minus max_offset.
size_t Rewriter::Impl::first_raw(const uchar* p, size_t n, uint64_t* mask) const {
    (void)mask;  // made and used by the vector paths only
    if (n < min_value_len) return npos;
    auto verifies = [&](size_t c) {
        for (const Lane& l : lanes) {
            if (p[c] != l.b1 || c + l.delta >= n || p[c + l.delta] != l.b2) continue;
            auto occurs = [&](const Member& m) {
                if (c < m.offset) return false;
                const size_t st = c - m.offset;
                return st + m.len <= n && equal_bytes(p + st, m.search, m.len);
            };
            for (const uint16_t k : l.always)
                if (occurs(l.members[k])) return true;
            const long dpos = static_cast<long>(c) + l.disc;
            if (dpos >= 0 && dpos < static_cast<long>(n)) {
                const uchar b = p[dpos];
                for (uint32_t k = l.bucket_begin[b]; k < l.bucket_begin[b + 1]; ++k)
                    if (occurs(l.members[l.bucket[k]])) return true;
            }
        }
        return false;
    };
#if defined(SITELIFT_X86_SIMD)
    if (lanes.size() <= vec.count && n >= kShortMin && n <= kShortMax) {
        // The candidate mask once, rather than once per next_candidate() call.
        const uint64_t all = short_candidates(vec, p, n);
        if (mask) *mask = all;
        for (uint64_t m = all; m; m &= m - 1) {
            const size_t c = static_cast<size_t>(__builtin_ctzll(m));
            if (verifies(c)) return c;
        }
        return npos;
    }
#endif
    for (size_t c = next_candidate(p, n, 0); c != npos; c = next_candidate(p, n, c + 1))
        if (verifies(c)) return c;
    return npos;
}

bool Rewriter::Impl::boundaries_ok(const Pattern& pat, const uchar* p, size_t n, size_t s) const {
    if (pat.left != LeftRule::none) {
        const LChar b = char_before(p, s);
        if (b.ch >= 0) {
            if (is_word(b.ch)) return false;
            if (pat.left == LeftRule::protocol_relative && b.ch == '/') return false;
        }
    }
    if (pat.right_check && continues_right(p, n, s + pat.search.size())) return false;
    return true;
}

// Leftmost match at or after `from`; at one position the longest search whose boundaries hold.
//
// Every occurrence of a search starts exactly `offset` before a candidate of its lane, so the starts to
// try come from the candidates alone. Let c be the first candidate at which some match P (start st)
// verifies. Any other match R starting at or before st has its candidate at or after c (there is none
// in [from, c)), inside R; so R overlaps P's span and agrees with P's bytes there: R is one of P's
// precomputed rivals at a distance d = st - R's start. Checking those (usually none for a site move)
// replaces scanning the following candidates.
bool Rewriter::Impl::next_match(const uchar* p, size_t n, size_t from, size_t cand, uint64_t mask, bool markers,
                                size_t& at, uint32_t& which) const {
    size_t best = npos, best_len = 0;
    uint32_t best_pat = 0;
    for (size_t c = cand != npos && cand >= from ? cand : next_candidate(p, n, from, mask); c != npos;) {
        for (const Lane& l : lanes) {
            if (p[c] != l.b1 || c + l.delta >= n || p[c + l.delta] != l.b2) continue;
            // Only members whose byte at the lane's telling position equals the text's can match there.
            const long dpos = static_cast<long>(c) + l.disc;
            const uint16_t* lists[2] = {l.always.data(), nullptr};
            size_t counts[2] = {l.always.size(), 0};
            if (dpos >= 0 && dpos < static_cast<long>(n)) {
                const uchar b = p[dpos];
                lists[1] = l.bucket.data() + l.bucket_begin[b];
                counts[1] = l.bucket_begin[b + 1] - l.bucket_begin[b];
            }
            for (int li = 0; li < 2; ++li) {
                for (size_t k = 0; k < counts[li]; ++k) {
                    const Member& m = l.members[lists[li][k]];
                    if (c < m.offset + from) continue;
                    const size_t st = c - m.offset;
                    const size_t len = m.len;
                    if (st > best || (st == best && len <= best_len) || st + len > n) continue;
                    if (len >= 4) {
                        uint32_t head;
                        std::memcpy(&head, p + st, 4);
                        if (head != m.head) continue;
                    }
                    if (!equal_bytes(p + st, m.search, len)) continue;
                    const Pattern& pat = patterns[m.pattern];
                    if (pat.marker ? !markers : !boundaries_ok(pat, p, n, st)) continue;
                    best = st;
                    best_len = len;
                    best_pat = m.pattern;
                }
            }
        }
        if (best == npos) {
            c = next_candidate(p, n, c + 1, mask);
            continue;
        }
        break;
    }
    if (best == npos) return false;
    // Rivals of the match found (all relative to it, so judged against that one match).
    const size_t st0 = best;
    for (const Rival& r : rivals[best_pat]) {
        if (r.back > st0 || st0 - r.back < from) continue;
        const size_t st = st0 - r.back;
        const Pattern& q = patterns[r.pattern];
        const size_t len = q.search.size();
        if (st > best || (st == best && len <= best_len) || st + len > n) continue;
        if (!equal_bytes(p + st, q.search.data(), len)) continue;
        if (q.marker ? !markers : !boundaries_ok(q, p, n, st)) continue;
        best = st;
        best_len = len;
        best_pat = r.pattern;
    }
    at = best;
    which = best_pat;
    return true;
}

namespace {

#if defined(SITELIFT_X86_SIMD)
// First i >= from (reported as limit when >= limit; requires from >= 1) with p[i] == ':', p[i - 1] 's' or 'S' and
// p[i + 1] a digit, 32 positions at a time; *resume is where the caller must go on when none was found.
__attribute__((target("avx2"))) size_t prefix_colon_avx2(const uchar* p, size_t n, size_t i, size_t limit,
                                                          size_t* resume) {
    const __m256i colon = _mm256_set1_epi8(':'), lower_s = _mm256_set1_epi8('s'), upper_s = _mm256_set1_epi8('S');
    const __m256i zero = _mm256_set1_epi8('0' - 1), nine = _mm256_set1_epi8('9' + 1);
    for (; i + 33 <= n && i < limit; i += 32) {
        const __m256i here = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
        const __m256i before = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i - 1));
        const __m256i after = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 1));
        const __m256i digit = _mm256_and_si256(_mm256_cmpgt_epi8(after, zero), _mm256_cmpgt_epi8(nine, after));
        const __m256i s_before = _mm256_or_si256(_mm256_cmpeq_epi8(before, lower_s), _mm256_cmpeq_epi8(before, upper_s));
        const uint32_t m = static_cast<uint32_t>(
            _mm256_movemask_epi8(_mm256_and_si256(_mm256_and_si256(_mm256_cmpeq_epi8(here, colon), s_before), digit)));
        if (m) return std::min(limit, i + static_cast<size_t>(__builtin_ctz(m)));
    }
    *resume = i;
    return npos;
}
#endif

// Where plain text holds what looks like length-prefixed serialized strings (s:N:" or s:N:\"), a
// replacement there would corrupt data we could not parse. Queried with ascending positions.
class UnsafeZones {
public:
    UnsafeZones(const uchar* p, size_t n) : p_(p), n_(n) {
        size_t i = 0;
        while (i < n && is_php_space(p[i])) ++i;
        if (i + 1 < n) {
            const uchar c = p[i];
            if (c == 'N' && p[i + 1] == ';') starts_like_ = true;
            else if (p[i + 1] == ':' && kSerializedStart.at[c] && c != 'N') starts_like_ = true;
        }
    }

    // Is a match starting at m inside (or, for text that starts like serialized data, after the start
    // of) a length-prefixed string?
    bool unsafe(size_t m) {
        while (true) {
            // A prefix whose content starts at or before m has its ':' before m: the text after m is
            // looked at only when a later match needs it.
            if (!have_pending_) {
                if (!find_next(m)) break;
            }
            if (pending_q_ > m) break;
            any_ = true;
            max_end_ = std::max(max_end_, pending_end_);
            have_pending_ = false;
        }
        return any_ && (starts_like_ || m < max_end_);
    }

private:
    // Next ':' in [from, limit) with 's' or 'S' before it and a digit after it (limit when none). URL-heavy
    // text has a ':' in every "https:", so this looks at 16 positions at a time rather than each ':'.
    size_t next_prefix_colon(size_t from, size_t limit) const {
        size_t i = std::max<size_t>(from, 1);
        limit = std::min(limit, n_);
#if defined(SITELIFT_X86_SIMD)
        static const bool avx2 = __builtin_cpu_supports("avx2");
        if (avx2 && i + 33 <= n_ && i < limit) {
            const size_t found = prefix_colon_avx2(p_, n_, i, limit, &i);
            if (found != npos) return found;
        }
        const __m128i colon = _mm_set1_epi8(':'), lower_s = _mm_set1_epi8('s'), upper_s = _mm_set1_epi8('S');
        const __m128i zero = _mm_set1_epi8('0' - 1), nine = _mm_set1_epi8('9' + 1);
        for (; i + 17 <= n_ && i < limit; i += 16) {
            const __m128i here = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_ + i));
            const __m128i before = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_ + i - 1));
            const __m128i after = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p_ + i + 1));
            // Digits as signed bytes: '0'..'9' are below 0x80, so signed compares work.
            const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(after, zero), _mm_cmplt_epi8(after, nine));
            const __m128i s_before = _mm_or_si128(_mm_cmpeq_epi8(before, lower_s), _mm_cmpeq_epi8(before, upper_s));
            const unsigned m = static_cast<unsigned>(
                _mm_movemask_epi8(_mm_and_si128(_mm_and_si128(_mm_cmpeq_epi8(here, colon), s_before), digit)));
            if (m) return std::min(limit, i + static_cast<size_t>(__builtin_ctz(m)));
        }
#endif
        for (; i + 1 < n_ && i < limit; ++i)
            if (p_[i] == ':' && (p_[i - 1] == 's' || p_[i - 1] == 'S') && is_digit(p_[i + 1])) return i;
        return limit;
    }

    // Finds the next prefix whose ':' lies before limit (false: none; the text up to limit is done).
    bool find_next(size_t limit) {
        limit = std::min(limit, n_);
        while (scan_ + 1 < n_ && scan_ < limit) {
            const size_t i = next_prefix_colon(scan_, limit);
            if (i >= limit) {
                scan_ = std::max(scan_, limit);
                return false;
            }
            scan_ = i + 1;
            size_t j = i + 1;
            uint64_t len = 0;
            size_t digits = 0;
            while (j < n_ && is_digit(p_[j]) && digits < 19) len = len * 10 + (p_[j++] - '0'), ++digits;
            if (digits == 0 || j >= n_ || p_[j] != ':') continue;
            ++j;
            size_t q;
            uint64_t reach = len;
            if (j < n_ && p_[j] == '"') {
                q = j + 1;
            } else if (j + 1 < n_ && p_[j] == '\\' && p_[j + 1] == '"') {
                q = j + 2;
                reach = len * 6;  // escaped copy: the content is longer than its declared length
            } else {
                continue;
            }
            pending_q_ = q;
            pending_end_ = reach > n_ ? n_ + 1 : q + static_cast<size_t>(reach);
            have_pending_ = true;
            return true;
        }
        return false;
    }

    const uchar* p_;
    size_t n_;
    size_t scan_ = 0;
    bool starts_like_ = false;
    bool any_ = false;
    bool have_pending_ = false;
    size_t pending_q_ = 0, pending_end_ = 0, max_end_ = 0;
};

}  // namespace

void Rewriter::Impl::process_plain(std::string_view v, size_t base, Ctx& ctx, bool markers, size_t hit, uint64_t mask) const {
    const uchar* p = reinterpret_cast<const uchar*>(v.data());
    const size_t n = v.size();
    const size_t first_edit = ctx.edits.size();
    const size_t arena_mark = ctx.arena.size();
    // A match starts at hit - max_offset or later, and its candidate is hit or later: the candidates in
    // between were looked at by first_raw already.
    size_t pos = hit == npos ? 0 : hit >= max_offset ? hit - max_offset : 0, at = 0;
    size_t cand = hit;
    uint32_t which = 0;
    std::optional<UnsafeZones> zones;  // built at the first match only
    while (pos < n && next_match(p, n, pos, cand, mask, markers, at, which)) {
        cand = npos;
        const Pattern& pat = patterns[which];
        if (!zones) zones.emplace(p, n);
        if (zones->unsafe(at)) {
            ctx.edits.truncate(first_edit);
            ctx.arena.truncate(arena_mark);
            ctx.unsafe = true;
            return;
        }
        if (pat.marker) {
            const size_t covered = process_block(v, at, base, ctx);
            pos = at + (covered ? covered : pat.search.size());
            continue;
        }
        if (!pat.noop) {
            ctx.edits.push_back({base + at, pat.search.size(), pat.replace.data(), 0, pat.replace.size()});
        }
        pos = at + pat.search.size();
    }
}

bool Rewriter::Impl::rewrite_block_html(const std::string& html, Ctx& ctx, std::string& out) const {
    const uchar* hp = reinterpret_cast<const uchar*>(html.data());
    if (!has_raw_occurrence(hp, html.size())) return false;
    Ctx sub;
    process_plain(html, 0, sub, /*markers=*/false);
    if (sub.unsafe) ctx.unsafe = true;
    if (sub.edits.empty()) return false;
    apply_edits(html, sub, edits_delta(sub, 0), out);
    return true;
}

size_t Rewriter::Impl::process_block(std::string_view v, size_t s, size_t base, Ctx& ctx) const {
    // [tag attributes]BASE64[/tag]: WPBakery's blocks hold base64 of rawurlencode()d HTML, Avada's code block
    // base64 of the code itself (or the code as it is, which is then plain text like the rest).
    struct Tag {
        std::string_view name;
        bool urlencoded;
    };
    static const Tag kTags[] = {{"vc_raw_html", true}, {"vc_raw_js", true}, {"fusion_code", false}};
    std::string decoded, html, rewritten, enc, b64;
    for (const Tag& tag : kTags) {
        const size_t name_at = s + 1;
        if (v.compare(name_at, tag.name.size(), tag.name) != 0) continue;
        size_t i = name_at + tag.name.size();
        if (i >= v.size()) return 0;
        if (v[i] != ']' && v[i] != ' ' && v[i] != '\t') continue;  // e.g. [vc_raw_htmlx]
        const size_t close_open = v.find(']', i);
        if (close_open == std::string_view::npos) return 0;
        if (v.find('[', i) < close_open) return 0;
        const size_t cs = close_open + 1;
        std::string closing = "[/";
        closing.append(tag.name.data(), tag.name.size());
        closing += ']';
        const size_t ce = v.find(closing, cs);
        if (ce == std::string_view::npos) return 0;
        const size_t covered = ce + closing.size() - s;
        const std::string_view content = v.substr(cs, ce - cs);
        if (!b64_decode_canonical(content, decoded)) return tag.urlencoded ? covered : 0;  // not clean base64
        if (!tag.urlencoded) {
            html.swap(decoded);
        } else if (!rawurldecode_canonical(decoded, html)) {
            return covered;  // not rawurlencode()d: left alone
        }
        if (!rewrite_block_html(html, ctx, rewritten)) return covered;
        const std::string* out = &rewritten;
        if (tag.urlencoded) {
            rawurlencode_to(rewritten, enc);
            out = &enc;
        }
        b64_encode(*out, b64);
        ctx.push_owned(base + cs, content.size(), b64);
        return covered;
    }
    return 0;
}

namespace {

// Reads an unsigned decimal (PHP's uiv: [0-9]+) at p[i]; false when absent or absurdly large.
inline bool read_uint(const uchar* p, size_t n, size_t& i, uint64_t& out) {
    const size_t start = i;
    uint64_t v = 0;
    while (i < n && is_digit(p[i])) {
        if (v > (UINT64_MAX - 9) / 10) return false;
        v = v * 10 + (p[i] - '0');
        ++i;
    }
    out = v;
    return i > start;
}

inline bool read_int(const uchar* p, size_t n, size_t& i) {
    if (i < n && (p[i] == '+' || p[i] == '-')) ++i;
    const size_t start = i;
    while (i < n && is_digit(p[i])) ++i;
    return i > start;
}

inline bool expect(const uchar* p, size_t n, size_t& i, char c) {
    if (i < n && p[i] == uchar(c)) {
        ++i;
        return true;
    }
    return false;
}

// PHP's serialized double: [+-]? (digits | digits? "." digits | digits "." digits?) ([eE] [+-]? digits)?
// or INF, -INF, NAN.
inline bool read_double(const uchar* p, size_t n, size_t& i) {
    auto lit = [&](const char* s) {
        const size_t l = std::strlen(s);
        if (i + l <= n && std::memcmp(p + i, s, l) == 0) {
            i += l;
            return true;
        }
        return false;
    };
    if (lit("NAN") || lit("INF") || lit("-INF")) return true;
    if (i < n && (p[i] == '+' || p[i] == '-')) ++i;
    size_t int_digits = 0, frac_digits = 0;
    while (i < n && is_digit(p[i])) ++i, ++int_digits;
    if (i < n && p[i] == '.') {
        ++i;
        while (i < n && is_digit(p[i])) ++i, ++frac_digits;
    }
    if (int_digits + frac_digits == 0) return false;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        ++i;
        if (!read_int(p, n, i)) return false;
    }
    return true;
}


// Skips one value of ALREADY VALIDATED serialized data at p[i]; returns the offset just after it.
inline size_t skip_valid_value(const uchar* p, size_t i) {
    size_t depth = 0;
    do {
        const uchar t = p[i];
        if (t == '}') {
            ++i;
            --depth;
            continue;
        }
        if (t == 'N') {
            i += 2;
            continue;
        }
        i += 2;  // "x:"
        switch (t) {
            case 's':
            case 'E': {
                uint64_t len = 0;
                while (is_digit(p[i])) len = len * 10 + (p[i++] - '0');
                i += 2 + static_cast<size_t>(len) + 2;  // :"...";
                break;
            }
            case 'a':
                while (p[i] != '{') ++i;
                ++i;
                ++depth;
                break;
            case 'O':
            case 'C': {
                uint64_t len = 0;
                while (is_digit(p[i])) len = len * 10 + (p[i++] - '0');
                i += 2 + static_cast<size_t>(len) + 2;  // :"name":
                uint64_t count = 0;
                while (is_digit(p[i])) count = count * 10 + (p[i++] - '0');
                i += 2;  // :{
                if (t == 'O') ++depth;
                else i += static_cast<size_t>(count) + 1;  // payload and '}'
                break;
            }
            default:  // b: i: d: r: R:
                while (p[i] != ';') ++i;
                ++i;
                break;
        }
    } while (depth > 0);
    return i;
}

// "-?[0-9]+": PHP would turn such a string key into an integer key (the rule is kept simple and a
// little wider than PHP's: leading zeros count too).
inline bool looks_integer(std::string_view k) {
    size_t i = (!k.empty() && k[0] == '-') ? 1 : 0;
    if (i >= k.size()) return false;
    for (; i < k.size(); ++i)
        if (!is_digit(static_cast<uchar>(k[i]))) return false;
    return true;
}

// The bytes of v[from, to) after the edits of ctx that lie inside that range.
std::string edited_range(std::string_view v, size_t base, const Ctx& ctx, size_t from, size_t to) {
    std::string r;
    auto it = std::lower_bound(ctx.edits.begin(), ctx.edits.end(), base + from,
                               [](const Edit& e, size_t pos) { return e.pos < pos; });
    size_t at = from;
    for (; it != ctx.edits.end() && it->pos < base + to; ++it) {
        const size_t ep = it->pos - base;
        r.append(v.data() + at, ep - at);
        r.append(ctx.rep_data(*it), it->rep_len);
        at = ep + it->len;
    }
    r.append(v.data() + at, to - at);
    return r;
}

// An array some of whose string keys changed: would PHP see the result as a different array? That is,
// does a changed key now equal another key of the array, or look like an integer (PHP would make it an
// integer key)? The array's items start at c.start in v and are well-formed.
bool array_keys_collide(std::string_view v, size_t base, const Ctx& ctx, const Container& c) {
    const uchar* p = reinterpret_cast<const uchar*>(v.data());
    struct Key {
        std::string text;
        bool changed;
    };
    std::vector<Key> keys;
    size_t i = c.start;
    for (uint64_t k = 0; k < c.count; ++k) {
        if (p[i] == 's') {
            i += 2;
            uint64_t len = 0;
            while (is_digit(p[i])) len = len * 10 + (p[i++] - '0');
            i += 2;
            const size_t cs = i, ce = i + static_cast<size_t>(len);
            std::string text = edited_range(v, base, ctx, cs, ce);
            const bool changed = text != v.substr(cs, ce - cs);
            if (changed && looks_integer(text)) return true;
            keys.push_back({std::move(text), changed});
            i = ce + 2;
        } else {  // i:N; - a changed key never looks like an integer, so it cannot equal one
            while (p[i] != ';') ++i;
            ++i;
        }
        i = skip_valid_value(p, i);
    }
    std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) { return a.text < b.text; });
    for (size_t k = 1; k < keys.size(); ++k)
        if (keys[k].text == keys[k - 1].text && (keys[k].changed || keys[k - 1].changed)) return true;
    return false;
}

}  // namespace

// Walks v as one serialized value (iteratively; containers nest up to kMaxContainerDepth). For every
// string in a value position (array element or property value) or an array key (never a property name)
// whose content changes, edits for the content and for its byte length are appended. Returns false,
// with whatever was appended left for the caller to discard, when v is not exactly one well-formed value.
// When the changed keys of some array would collide (see array_keys_collide), nothing of this level is
// changed: the edits it made are dropped, ctx.unsafe is set and the result is true.
bool Rewriter::Impl::process_serialized(std::string_view v, size_t base, int depth, Ctx& ctx, bool top) const {
    const uchar* p = reinterpret_cast<const uchar*>(v.data());
    const size_t n = v.size();
    const size_t edits_mark = ctx.edits.size();
    const size_t arena_mark = ctx.arena.size();
    bool collided = false;
    size_t i = 0;
    if (top)
        while (i < n && is_php_space(p[i])) ++i;
    ItemStack stack;  // open containers
    while (true) {
        if (!stack.empty() && stack.top().left == 0) {
            if (!expect(p, n, i, '}')) return false;
            if (stack.top().dirty && !collided && array_keys_collide(v, base, ctx, stack.top())) collided = true;
            stack.pop();
            if (stack.empty()) break;
            continue;
        }
        const bool key = !stack.empty() && (stack.top().left % 2 == 0);
        if (!stack.empty()) --stack.top().left;
        if (i + 1 >= n) return false;
        const uchar t = p[i];
        if (key && t != 'i' && t != 's') return false;
        if (t == 'N') {
            i += 1;
            if (!expect(p, n, i, ';')) return false;
        } else {
            if (p[i + 1] != ':') return false;
            i += 2;
            switch (t) {
                case 'b':
                    if (i >= n || (p[i] != '0' && p[i] != '1')) return false;
                    ++i;
                    if (!expect(p, n, i, ';')) return false;
                    break;
                case 'i':
                case 'r':
                case 'R':
                    if (!read_int(p, n, i) || !expect(p, n, i, ';')) return false;
                    break;
                case 'd':
                    if (!read_double(p, n, i) || !expect(p, n, i, ';')) return false;
                    break;
                case 's':
                case 'E': {
                    const size_t digits_at = i;
                    uint64_t len;
                    if (!read_uint(p, n, i, len)) return false;
                    const size_t digits_len = i - digits_at;
                    if (!expect(p, n, i, ':') || !expect(p, n, i, '"')) return false;
                    if (len > n - i || n - i - len < 2) return false;
                    const size_t cs = i;
                    i += static_cast<size_t>(len);
                    if (p[i] != '"' || p[i + 1] != ';') return false;
                    i += 2;
                    if (t == 'E' || collided) break;
                    if (key && !stack.top().is_array) break;  // a property name
                    // A string value or array key: rewrite its content; fix its length if that changed.
                    const std::string_view content = v.substr(cs, static_cast<size_t>(len));
                    uint64_t mask = 0;
                    const size_t hit = first_raw(p + cs, content.size(), &mask);
                    if (hit == npos) break;
                    const size_t first = ctx.edits.size();
                    process_text(content, base + cs, depth + 1, ctx, /*top=*/false, hit, mask);
                    if (ctx.edits.size() == first) break;
                    if (key) stack.top().dirty = true;
                    const long long delta = edits_delta(ctx, first);
                    if (delta != 0) {
                        // The length edit goes before the content's edits (edits stay in text order).
                        char digits[24];
                        const int dl = static_cast<int>(
                            std::to_chars(digits, digits + sizeof digits, static_cast<long long>(len) + delta).ptr - digits);
                        const size_t off = ctx.arena.size();
                        ctx.arena.append(digits, static_cast<size_t>(dl));
                        ctx.edits.insert(first, Edit{base + digits_at, digits_len, nullptr, off, static_cast<size_t>(dl)});
                    }
                    break;
                }
                case 'a': {
                    uint64_t count;
                    if (!read_uint(p, n, i, count) || !expect(p, n, i, ':') || !expect(p, n, i, '{')) return false;
                    if (count > n) return false;  // every element takes bytes
                    if (stack.size() >= kMaxContainerDepth) return false;
                    stack.push(Container{count * 2, i, count, true, false});
                    break;
                }
                case 'O':
                case 'C': {
                    uint64_t name_len;
                    if (!read_uint(p, n, i, name_len) || !expect(p, n, i, ':') || !expect(p, n, i, '"')) return false;
                    if (name_len == 0 || name_len > n - i) return false;
                    i += static_cast<size_t>(name_len);
                    if (!expect(p, n, i, '"') || !expect(p, n, i, ':')) return false;
                    uint64_t count;
                    if (!read_uint(p, n, i, count) || !expect(p, n, i, ':') || !expect(p, n, i, '{')) return false;
                    if (t == 'O') {
                        if (count > n) return false;
                        if (stack.size() >= kMaxContainerDepth) return false;
                        stack.push(Container{count * 2, i, count, false, false});
                        break;
                    }
                    // C: custom-serialized payload of `count` bytes, left alone. A search inside it
                    // cannot be rewritten safely: count the value as skipped.
                    if (count > n - i) return false;
                    const size_t ps = i;
                    i += static_cast<size_t>(count);
                    if (!expect(p, n, i, '}')) return false;
                    if (has_raw_occurrence(p + ps, static_cast<size_t>(count))) ctx.unsafe = true;
                    break;
                }
                default:
                    return false;
            }
        }
        if (stack.empty()) break;  // a scalar at the root
    }
    if (top)
        while (i < n && is_php_space(p[i])) ++i;
    if (i != n) return false;
    if (collided) {
        ctx.edits.truncate(edits_mark);
        ctx.arena.truncate(arena_mark);
        ctx.unsafe = true;
    }
    return true;
}

void Rewriter::Impl::process_text(std::string_view v, size_t base, int depth, Ctx& ctx, bool top, size_t first_hit,
                                  uint64_t mask) const {
    const uchar* p = reinterpret_cast<const uchar*>(v.data());
    if (first_hit == npos) first_hit = first_raw(p, v.size(), &mask);
    if (first_hit == npos) return;
    size_t lead = 0;
    if (top)
        while (lead < v.size() && is_php_space(p[lead])) ++lead;
    if (depth < kMaxTextNesting && lead + 1 < v.size() && kSerializedStart.at[p[lead]]) {
        const size_t edits_mark = ctx.edits.size();
        const size_t arena_mark = ctx.arena.size();
        const bool unsafe_mark = ctx.unsafe;
        if (process_serialized(v, base, depth, ctx, top)) return;
        ctx.edits.truncate(edits_mark);
        ctx.arena.truncate(arena_mark);
        ctx.unsafe = unsafe_mark;
    }
    process_plain(v, base, ctx, /*markers=*/true, first_hit, mask);
}

// =============================================================================================

Rewriter::Rewriter(std::vector<std::pair<std::string, std::string>> pairs) : impl_(std::make_unique<Impl>()) {
    std::vector<std::pair<std::string, std::string>> unique;
    unique.reserve(pairs.size());
    std::unordered_map<std::string, size_t> index;  // search -> its place in unique
    for (auto& pr : pairs) {
        if (pr.first.empty()) throw Error(ErrorKind::usage, "rewrite: a search string is empty");
        const auto [it, added] = index.emplace(pr.first, unique.size());
        if (!added) {
            if (unique[it->second].second != pr.second)
                throw Error(ErrorKind::usage, "rewrite: the search string \"" + pr.first + "\" is given twice with different replacements");
            continue;
        }
        unique.push_back(std::move(pr));
    }
    impl_->pairs = std::move(unique);
    impl_->build();
}

Rewriter::~Rewriter() = default;
Rewriter::Rewriter(Rewriter&&) noexcept = default;
Rewriter& Rewriter::operator=(Rewriter&&) noexcept = default;

const std::vector<std::pair<std::string, std::string>>& Rewriter::pairs() const { return impl_->pairs; }

bool Rewriter::rewrite(std::string_view value, std::string& out, RewriteReport* report) const {
    if (report) ++report->values_seen;
    const Impl& im = *impl_;
    if (value.size() < im.min_value_len) return false;
    uint64_t mask = 0;
    const size_t hit = im.first_raw(reinterpret_cast<const uchar*>(value.data()), value.size(), &mask);
    if (hit == npos) return false;

    Ctx ctx;
    im.process_text(value, 0, 0, ctx, /*top=*/true, hit, mask);
    if (ctx.unsafe && report) ++report->values_skipped_unsafe;
    if (ctx.edits.empty()) return false;

    const long long delta = edits_delta(ctx, 0);
    if (delta == 0) {
        // Same size: make sure the edits really change something before touching `out`. When every edit
        // keeps its span's length, the result differs exactly where some edit's bytes do: compare those
        // spans only (the common case of a same-length URL), else compare the whole result.
        bool same = true;
        bool same_spans = true;
        for (const Edit& e : ctx.edits) same_spans = same_spans && e.rep_len == e.len;
        if (same_spans) {
            for (const Edit& e : ctx.edits) {
                if (!equal_bytes(reinterpret_cast<const uchar*>(value.data()) + e.pos, ctx.rep_data(e), e.len)) {
                    same = false;
                    break;
                }
            }
        } else {
            size_t at = 0;
            for_each_piece(value, ctx, 0, [&](const char* d, size_t len) {
                if (same && std::memcmp(value.data() + at, d, len) != 0) same = false;
                at += len;
            });
        }
        if (same) return false;
    }
    apply_edits(value, ctx, delta, out);
    if (report) ++report->values_changed;
    return true;
}

// ---------------------------------------------------------------------------------------------
// Site moves.

namespace {

struct SplitUrl {
    std::string scheme;  // "http", "https" or "" (protocol-relative)
    std::string rest;    // "//host[:port][/path]" without a trailing slash
};

SplitUrl split_url(const std::string& url, const char* what) {
    std::string u = url;
    SplitUrl r;
    auto lower_prefix = [&](const char* pre) {
        const size_t l = std::strlen(pre);
        if (u.size() < l) return false;
        for (size_t i = 0; i < l; ++i)
            if (std::tolower(static_cast<uchar>(u[i])) != pre[i]) return false;
        return true;
    };
    if (lower_prefix("https://")) {
        r.scheme = "https";
        r.rest = u.substr(6);
    } else if (lower_prefix("http://")) {
        r.scheme = "http";
        r.rest = u.substr(5);
    } else if (u.compare(0, 2, "//") == 0) {
        r.rest = u;
    } else {
        throw Error(ErrorKind::usage, std::string("site move: ") + what + " \"" + url + "\" is not an http(s) URL");
    }
    while (r.rest.size() > 2 && r.rest.back() == '/') r.rest.pop_back();
    if (r.rest.size() <= 2) throw Error(ErrorKind::usage, std::string("site move: ") + what + " \"" + url + "\" has no host");
    return r;
}

std::string json_escape_slashes(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '/') o += "\\/";
        else if (c == '\\') o += "\\\\";
        else o += c;
    }
    return o;
}

// A JSON-escaped slash ("\/") escaped once more: "\\/" where addslashes(), or a JSON encoder that leaves
// '/' alone, ran over JSON text (slashes = 2); "\\\/" where JSON text was encoded as JSON again, a JSON
// document kept inside a JSON string (slashes = 3). A backslash ("\\" in JSON) becomes four either way.
std::string nested_escape_slashes(const std::string& s, int slashes) {
    std::string o;
    for (char c : s) {
        if (c == '/') o.append(static_cast<size_t>(slashes), '\\').push_back('/');
        else if (c == '\\') o.append(4, '\\');
        else o += c;
    }
    return o;
}

std::string unicode_escape_slashes(const std::string& s, bool upper) {
    std::string o;
    for (char c : s) {
        if (c == '/') o += upper ? "\\u002F" : "\\u002f";
        else if (c == '\\') o += "\\\\";
        else o += c;
    }
    return o;
}

// "//H[:port]/P" with the host H in lower case (host names are case-insensitive; the path is not).
std::string lower_host(const std::string& rest) {
    std::string o = rest;
    const size_t end = std::min(o.find('/', 2), o.size());
    for (size_t i = 2; i < end; ++i)
        if (o[i] >= 'A' && o[i] <= 'Z') o[i] = static_cast<char>(o[i] - 'A' + 'a');
    return o;
}

// The plain pairs for a source URL "//H/P" (from_rest) going to to_scheme + ":" + to_rest (to_rest alone when
// to_scheme is empty): with `schemes`, "https://H/P" and "http://H/P" to that URL; always "//H/P" to to_rest.
// A host written with capitals ("https://Old.Example", as some sites have it in their settings) also gets
// these pairs for its lower-case spelling, which is how links typed by hand and by most tools spell it.
void add_url_pairs(std::vector<std::pair<std::string, std::string>>& base, const std::string& from_rest,
                   const std::string& to_scheme, const std::string& to_rest, bool schemes) {
    const std::string to_full = to_scheme.empty() ? to_rest : to_scheme + ":" + to_rest;
    std::vector<std::string> rests{from_rest};
    if (std::string lower = lower_host(from_rest); lower != from_rest) rests.push_back(std::move(lower));
    for (const std::string& rest : rests) {
        if (schemes) {
            base.emplace_back("https:" + rest, to_full);
            base.emplace_back("http:" + rest, to_full);
        }
        base.emplace_back(rest, to_rest);
    }
}

// Adds each pair of base in every form (plain; JSON; JSON escaped once more; \u002F and \u002f; rawurlencode()d
// with upper- and lower-case hex) to pairs, unless pairs has that search already (the first mapping wins) or
// the form maps a search to itself.
void add_escaped_forms(const std::vector<std::pair<std::string, std::string>>& base,
                       std::vector<std::pair<std::string, std::string>>& pairs) {
    std::unordered_set<std::string> searches;
    for (const auto& pr : pairs) searches.insert(pr.first);
    auto add = [&](std::string s, std::string r) {
        if (s == r || !searches.insert(s).second) return;
        pairs.emplace_back(std::move(s), std::move(r));
    };
    for (const auto& [s, r] : base) add(s, r);
    for (const auto& [s, r] : base) add(json_escape_slashes(s), json_escape_slashes(r));
    for (const int slashes : {2, 3})
        for (const auto& [s, r] : base) add(nested_escape_slashes(s, slashes), nested_escape_slashes(r, slashes));
    for (const bool upper : {true, false})
        for (const auto& [s, r] : base) add(unicode_escape_slashes(s, upper), unicode_escape_slashes(r, upper));
    for (const bool upper : {true, false}) {
        for (const auto& [s, r] : base) {
            std::string es, er;
            rawurlencode_to(s, es, upper);
            rawurlencode_to(r, er, upper);
            add(es, er);
        }
    }
}

}  // namespace

Rewriter Rewriter::for_site_move(const SiteMove& move) {
    if (move.from_urls.empty() && move.from_path.empty())
        throw Error(ErrorKind::usage, "site move: no source URL or path");
    std::vector<std::pair<std::string, std::string>> base;

    if (!move.from_urls.empty()) {
        if (move.to_url.empty()) throw Error(ErrorKind::usage, "site move: no destination URL");
        const SplitUrl to = split_url(move.to_url, "destination URL");
        const SplitUrl home = split_url(move.from_urls.front(), "source URL");
        for (const std::string& from_url : move.from_urls) {
            const SplitUrl from = split_url(from_url, "source URL");
            // A source URL under the source home (siteurl "https://old.example/wp") keeps its path below
            // home at the destination; any other maps to the destination home.
            std::string dest_rest = to.rest;
            if (from.rest.size() > home.rest.size() && from.rest.compare(0, home.rest.size(), home.rest) == 0 &&
                from.rest[home.rest.size()] == '/')
                dest_rest += from.rest.substr(home.rest.size());
            add_url_pairs(base, from.rest, to.scheme, dest_rest, /*schemes=*/true);
        }
    }
    auto strip_slash = [](std::string s) {
        while (s.size() > 1 && (s.back() == '/' || s.back() == '\\')) s.pop_back();
        return s;
    };
    if (!move.from_path.empty()) {
        if (move.to_path.empty()) throw Error(ErrorKind::usage, "site move: no destination path");
        base.emplace_back(strip_slash(move.from_path), strip_slash(move.to_path));
    }

    std::vector<std::pair<std::string, std::string>> pairs;
    add_escaped_forms(base, pairs);
    return Rewriter(std::move(pairs));
}

Rewriter Rewriter::with_all_forms(std::vector<std::pair<std::string, std::string>> given) {
    std::vector<std::pair<std::string, std::string>> base;
    auto is_url = [](const std::string& u) {
        return u.rfind("https://", 0) == 0 || u.rfind("http://", 0) == 0 || (u.rfind("//", 0) == 0 && u.size() > 2);
    };
    auto is_path = [](const std::string& p) { return p.size() > 1 && p[0] == '/' && p[1] != '/'; };
    for (const auto& [search, replace] : given) {
        if (is_url(search) && is_url(replace)) {
            SplitUrl from, to;
            try {
                from = split_url(search, "search");
                to = split_url(replace, "replacement");
            } catch (const Error&) {
                continue;  // no host: the pair stays as it was given
            }
            add_url_pairs(base, from.rest, to.scheme, to.rest, /*schemes=*/!from.scheme.empty());
        } else if (is_path(search) && (is_path(replace) || replace.empty())) {
            base.emplace_back(search, replace);
        }
    }
    // The pairs as given come first, so they win over a generated pair with the same search.
    std::vector<std::pair<std::string, std::string>> pairs;
    std::unordered_set<std::string> searches;
    for (auto& pr : given)
        if (searches.insert(pr.first).second) pairs.push_back(std::move(pr));
    add_escaped_forms(base, pairs);
    return Rewriter(std::move(pairs));
}

}  // namespace sitelift
