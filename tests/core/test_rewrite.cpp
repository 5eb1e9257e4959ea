// Tests of the URL/path rewriter (ext/core/rewrite.hpp).
#include "rewrite.hpp"

#include "error.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <string>
#include <vector>

// ---------------------------------------------------------------------------------------------
// Allocation counting, to check that a value that does not change allocates nothing. Done with the
// sanitizer allocator hooks (ASan/UBSan builds, as the suite is meant to run); without a sanitizer the
// allocation assertions are skipped rather than replacing the global operator new in a shared binary.

#if defined(__SANITIZE_ADDRESS__)
// From <sanitizer/allocator_interface.h> (not installed with every compiler package).
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, size_t),
                                                         void (*free_hook)(const volatile void*));
namespace {
std::atomic<long> g_allocations{0};
void count_malloc(const volatile void*, size_t) { ++g_allocations; }
void ignore_free(const volatile void*) {}
const bool g_hooks_installed = __sanitizer_install_malloc_and_free_hooks(count_malloc, ignore_free) != 0;
}  // namespace
#else
namespace {
std::atomic<long> g_allocations{0};
const bool g_hooks_installed = false;
}  // namespace
#endif

namespace {

using sitelift::Error;
using sitelift::ErrorKind;
using sitelift::RewriteReport;
using sitelift::Rewriter;
using sitelift::SiteMove;
using Pairs = std::vector<std::pair<std::string, std::string>>;

const std::string kOld = "https://old.example";
const std::string kNew = "https://new-site.test";  // a different length on purpose

// serialize() of a PHP string.
std::string S(const std::string& s) { return "s:" + std::to_string(s.size()) + ":\"" + s + "\";"; }

// Rewrites with the pairs, returning the result (the input when unchanged).
std::string rw(const Rewriter& r, const std::string& in, RewriteReport* rep = nullptr) {
    std::string out = "\x01untouched\x01";
    const bool changed = r.rewrite(in, out, rep);
    if (!changed) {
        EXPECT_EQ(out, "\x01untouched\x01") << "out must be untouched when nothing changes";
        return in;
    }
    EXPECT_NE(out, in) << "rewrite() returned true for an unchanged value";
    return out;
}

std::string rw(const Pairs& pairs, const std::string& in, RewriteReport* rep = nullptr) {
    return rw(Rewriter(pairs), in, rep);
}

Rewriter simple() { return Rewriter(Pairs{{kOld, kNew}}); }

SiteMove move_https() {
    SiteMove m;
    m.from_urls = {"https://old.example", "https://old.example/wp"};
    m.to_url = "https://new-site.test";
    m.from_path = "/var/www/old";
    m.to_path = "/srv/sites/new";
    return m;
}

// PHP's rawurlencode and base64_encode, for building WPBakery content.
std::string rawurlencode(const std::string& s) {
    std::string o;
    const char* hex = "0123456789ABCDEF";
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            o += static_cast<char>(c);
        } else {
            o += '%';
            o += hex[c >> 4];
            o += hex[c & 15];
        }
    }
    return o;
}

std::string base64(const std::string& s) {
    static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string o;
    size_t i = 0;
    for (; i + 2 < s.size(); i += 3) {
        unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8 | (unsigned char)s[i + 2];
        o += t[v >> 18];
        o += t[(v >> 12) & 63];
        o += t[(v >> 6) & 63];
        o += t[v & 63];
    }
    if (s.size() - i == 1) {
        unsigned v = (unsigned char)s[i] << 16;
        o += t[v >> 18];
        o += t[(v >> 12) & 63];
        o += "==";
    } else if (s.size() - i == 2) {
        unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8;
        o += t[v >> 18];
        o += t[(v >> 12) & 63];
        o += t[(v >> 6) & 63];
        o += '=';
    }
    return o;
}

std::string base64_decode(const std::string& s) {
    static const std::string t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string o;
    unsigned v = 0;
    int bits = 0;
    for (char c : s) {
        if (c == '=') break;
        v = (v << 6) | static_cast<unsigned>(t.find(c));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o += static_cast<char>((v >> bits) & 0xff);
        }
    }
    return o;
}

std::string rawurldecode(const std::string& s) {
    std::string o;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            o += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            o += s[i];
        }
    }
    return o;
}

// ---------------------------------------------------------------------------------------------
// Values that do not change.

TEST(RewriteNoChange, UnchangedValueLeavesOutUntouchedAndReturnsFalse) {
    const Rewriter r = simple();
    std::string out = "keep me";
    EXPECT_FALSE(r.rewrite("nothing to see at https://elsewhere.example/", out));
    EXPECT_EQ(out, "keep me");
    EXPECT_FALSE(r.rewrite("", out));
    EXPECT_EQ(out, "keep me");
}

TEST(RewriteNoChange, NoAllocationWhenNothingChanges) {
    const Rewriter r = Rewriter::for_site_move(move_https());
    const std::vector<std::string> values = {
        "",
        "42",
        "a plain sentence without any address in it, long enough to use the vector loop of the scanner",
        "<a href=\"https://other.example/x\">x</a>",
        "https://old.example.au/ and https://old.example-cdn.net/ and notold.example",  // near misses
        "https://old.example:8080/",
        "/var/www/old2/file.php",
        "a:2:{i:0;s:5:\"hello\";i:1;a:1:{s:3:\"key\";d:0.1;}}",
        "a:1:{s:22:\"https://old.example.au\";i:1;}",  // a near-miss array key
        "O:8:\"stdClass\":1:{s:19:\"https://old.example\";i:1;}",  // the only match is a property name
        "a:1:{i:0;s:22:\"https://old.example.au\";}",
        std::string(5000, 'x') + "https://old.examplex",
    };
    if (!g_hooks_installed) std::printf("note: built without AddressSanitizer, allocations not counted\n");
    for (const std::string& v : values) {
        std::string out = "sentinel";
        RewriteReport rep;
        const long before = g_allocations.load();
        const bool changed = r.rewrite(v, out, &rep);
        const long after = g_allocations.load();
        EXPECT_FALSE(changed) << v;
        EXPECT_EQ(out, "sentinel") << v;
        if (g_hooks_installed) {
            EXPECT_EQ(after - before, 0) << "allocated while rewriting: " << v;
        }
        EXPECT_EQ(rep.values_seen, 1u);
        EXPECT_EQ(rep.values_changed, 0u);
        EXPECT_EQ(rep.values_skipped_unsafe, 0u) << v;
    }
    if (g_hooks_installed) {  // the counter works: a value that changes does allocate
        std::string out;
        const long before = g_allocations.load();
        EXPECT_TRUE(r.rewrite("a:1:{i:0;s:19:\"https://old.example\";}", out));
        EXPECT_GT(g_allocations.load() - before, 0);
    }
}

// ---------------------------------------------------------------------------------------------
// Plain text and the boundary rule.

TEST(RewritePlain, ReplacesEveryOccurrence) {
    EXPECT_EQ(rw(simple(), "Visit https://old.example/page or https://old.example."),
              "Visit https://new-site.test/page or https://new-site.test.");
}

TEST(RewritePlain, EndBoundaryRejectsHostAndPortContinuations) {
    const Rewriter r = simple();
    for (const char* v : {"https://old.example.au/x", "https://old.example-cdn.net/", "https://old.example_x",
                          "https://old.examples", "https://old.example:8080/", "https://old.example:443",
                          "https://old.example..com", "https://old.example\xc3\xa9/"}) {
        const std::string in = v;
        EXPECT_EQ(rw(r, in), in) << in;
    }
}

TEST(RewritePlain, EndBoundaryAcceptsSeparators) {
    const Rewriter r = simple();
    EXPECT_EQ(rw(r, "https://old.example"), kNew);
    EXPECT_EQ(rw(r, "\"https://old.example\""), "\"" + kNew + "\"");
    EXPECT_EQ(rw(r, "https://old.example/"), kNew + "/");
    EXPECT_EQ(rw(r, "https://old.example?p=1"), kNew + "?p=1");
    EXPECT_EQ(rw(r, "https://old.example#top"), kNew + "#top");
    EXPECT_EQ(rw(r, "see https://old.example."), "see " + kNew + ".");          // '.' then end
    EXPECT_EQ(rw(r, "see https://old.example... or"), "see " + kNew + "... or");  // run of '.' then space
    EXPECT_EQ(rw(r, "https://old.example-"), kNew + "-");
    EXPECT_EQ(rw(r, "https://old.example: home"), kNew + ": home");  // ':' not followed by a digit
    EXPECT_EQ(rw(r, "https://old.example'"), kNew + "'");
    EXPECT_EQ(rw(r, "https://old.example<br>"), kNew + "<br>");
    EXPECT_EQ(rw(r, "https://old.example\\/x"), kNew + "\\/x");
    EXPECT_EQ(rw(r, "https://old.example%2Fx"), kNew + "%2Fx");
}

TEST(RewritePlain, PathSearchBoundaries) {
    const Pairs with_slash = {{"https://old.example/wp-content", "https://cdn.test/wp-content"}};
    EXPECT_EQ(rw(with_slash, "https://old.example/wp-content/x"), "https://cdn.test/wp-content/x");
    EXPECT_EQ(rw(with_slash, "\"https://old.example/wp-content\""), "\"https://cdn.test/wp-content\"");
    EXPECT_EQ(rw(with_slash, "https://old.example/wp-content"), "https://cdn.test/wp-content");
    EXPECT_EQ(rw(with_slash, "https://old.example/wp-contents/x"), "https://old.example/wp-contents/x");
    EXPECT_EQ(rw(with_slash, "https://old.example/wp-content-old/x"), "https://old.example/wp-content-old/x");

    const Pairs sites = {{"/sites/7/", "/sites/9/"}};
    EXPECT_EQ(rw(sites, "wp-content/uploads/sites/7/2024/a.jpg"), "wp-content/uploads/sites/9/2024/a.jpg");
    EXPECT_EQ(rw(sites, "wp-content/uploads/sites/70/2024/a.jpg"), "wp-content/uploads/sites/70/2024/a.jpg");
    const Pairs sites_noslash = {{"/sites/7", "/sites/9"}};
    EXPECT_EQ(rw(sites_noslash, "/sites/70/a"), "/sites/70/a");
    EXPECT_EQ(rw(sites_noslash, "/sites/7.5/a"), "/sites/7.5/a");
    EXPECT_EQ(rw(sites_noslash, "/sites/7/a /sites/7\" /sites/7"), "/sites/9/a /sites/9\" /sites/9");
}

TEST(RewritePlain, StartBoundaryForSchemelessAndProtocolRelative) {
    const Pairs host = {{"old.example", "new.test"}};
    EXPECT_EQ(rw(host, "notold.example"), "notold.example");
    EXPECT_EQ(rw(host, "cdn.old.example"), "cdn.old.example");
    EXPECT_EQ(rw(host, "my-old.example"), "my-old.example");
    EXPECT_EQ(rw(host, "my_old.example"), "my_old.example");
    EXPECT_EQ(rw(host, "admin@old.example"), "admin@new.test");
    EXPECT_EQ(rw(host, "(old.example)"), "(new.test)");
    EXPECT_EQ(rw(host, "old.example"), "new.test");
    EXPECT_EQ(rw(host, "https://old.example/"), "https://new.test/");
    // Escaped separators before the host count as the character they encode.
    EXPECT_EQ(rw(host, "https:\\u002F\\u002Fold.example\\u002Fx"), "https:\\u002F\\u002Fnew.test\\u002Fx");
    EXPECT_EQ(rw(host, "https%3A%2F%2Fold.example%2Fx"), "https%3A%2F%2Fnew.test%2Fx");
    EXPECT_EQ(rw(host, "x%2Dold.example"), "x%2Dold.example");  // encoded '-' before: another host

    const Pairs pr = {{"//old.example", "//new.test"}};
    EXPECT_EQ(rw(pr, "<img src=\"//old.example/a.png\">"), "<img src=\"//new.test/a.png\">");
    EXPECT_EQ(rw(pr, "ftp://old.example/"), "ftp://new.test/");
    EXPECT_EQ(rw(pr, "a//old.example"), "a//old.example");
    EXPECT_EQ(rw(pr, "///old.example"), "///old.example");
    EXPECT_EQ(rw(pr, "//old.example.au"), "//old.example.au");
}

TEST(RewritePlain, EscapedContinuationsOnTheRight) {
    const Pairs enc = {{"https%3A%2F%2Fold.example", "https%3A%2F%2Fnew.test"}};
    EXPECT_EQ(rw(enc, "u=https%3A%2F%2Fold.example%2Fx"), "u=https%3A%2F%2Fnew.test%2Fx");
    EXPECT_EQ(rw(enc, "u=https%3A%2F%2Fold.example.au"), "u=https%3A%2F%2Fold.example.au");
    EXPECT_EQ(rw(enc, "u=https%3A%2F%2Fold.example%3A8080"), "u=https%3A%2F%2Fold.example%3A8080");
    EXPECT_EQ(rw(enc, "u=https%3A%2F%2Fold.example%2Dcdn"), "u=https%3A%2F%2Fold.example%2Dcdn");
    EXPECT_EQ(rw(enc, "u=https%3A%2F%2Fold.example%26b"), "u=https%3A%2F%2Fnew.test%26b");
    const Pairs json = {{"https:\\/\\/old.example", "https:\\/\\/new.test"}};
    EXPECT_EQ(rw(json, "\"https:\\/\\/old.example\\u002Ecom\""), "\"https:\\/\\/old.example\\u002Ecom\"");
    EXPECT_EQ(rw(json, "\"https:\\/\\/old.example\\u0022"), "\"https:\\/\\/new.test\\u0022");
}

TEST(RewritePlain, LongestSearchWinsAndFallsBackWhenItsBoundaryFails) {
    const Pairs pairs = {{"https://old.example", "https://new.test"}, {"https://old.example/wp", "https://new.test/core"}};
    EXPECT_EQ(rw(pairs, "https://old.example/wp/wp-admin/"), "https://new.test/core/wp-admin/");
    EXPECT_EQ(rw(pairs, "https://old.example/wp-content/a.jpg"), "https://new.test/wp-content/a.jpg");
    EXPECT_EQ(rw(pairs, "https://old.example/wp"), "https://new.test/core");
}

TEST(RewritePlain, ReplacementsAreNotRescanned) {
    const Pairs pairs = {{"a.example", "b.example"}, {"b.example", "c.example"}};
    EXPECT_EQ(rw(pairs, "a.example b.example"), "b.example c.example");
    const Pairs grow = {{"old.example", "old.example.au"}};
    EXPECT_EQ(rw(grow, "old.example"), "old.example.au");
}

TEST(RewritePlain, IdentityPairIsANoop) {
    const Pairs pairs = {{"https://old.example/keep", "https://old.example/keep"}, {kOld, kNew}};
    EXPECT_EQ(rw(pairs, "https://old.example/keep/x"), "https://old.example/keep/x");
    EXPECT_EQ(rw(pairs, "https://old.example/keep/x https://old.example/y"), "https://old.example/keep/x " + kNew + "/y");
}

TEST(RewritePlain, SameSizeEditsThatCancelOutAreNoChange) {
    // "x" -> "xa" then "ab" -> "b": "xab" comes back as "xab".
    const Pairs pairs = {{"/x", "/xa"}, {"ab/", "b/"}};
    std::string out = "sentinel";
    EXPECT_FALSE(Rewriter(pairs).rewrite("/xab/", out));
    EXPECT_EQ(out, "sentinel");
}

TEST(RewritePlain, MatchAtEveryOffsetAndLength) {
    // Exercises the vector loop, its tail and the candidate window at every alignment.
    const Rewriter r = Rewriter::for_site_move(move_https());
    for (size_t before = 0; before < 70; ++before) {
        for (size_t after : {size_t(0), size_t(1), size_t(15), size_t(40)}) {
            const std::string in = std::string(before, 'q') + " https://old.example/x " + std::string(after, 'q');
            const std::string want = std::string(before, 'q') + " https://new-site.test/x " + std::string(after, 'q');
            EXPECT_EQ(rw(r, in), want) << before << "/" << after;
        }
    }
}

TEST(RewritePlain, EveryLaneFindsASearchAtEveryPositionOfEveryLength) {
    // Searches with unrelated bytes get scanner lanes of their own, of different distances; a search can
    // sit anywhere in a value of any length, including its very end, where a lane of a shorter distance
    // has positions the longest one does not reach (short values are scanned as bit masks, longer ones in
    // blocks, with more than four lanes the rest byte by byte).
    const Pairs few = {{"QZ", "1"}, {"J~~~~~~~K", "2"}, {"V~~~W", "3"}};
    const Pairs many = {{"QZ", "1"}, {"J~~~~~~~K", "2"}, {"V~~~W", "3"}, {"XY", "4"}, {"G~~H", "5"}, {"B~~~~~P", "6"}};
    for (const Pairs* pairs : {&few, &many}) {
        const Rewriter r(*pairs);
        for (const auto& [search, replace] : *pairs) {
            for (size_t n = search.size(); n <= 120; ++n) {
                for (size_t at = 0; at + search.size() <= n; ++at) {
                    if (n > 72 && at > 36 && at + search.size() + 36 < n) continue;  // the middle of long values
                    const std::string in = std::string(at, '~') + search + std::string(n - at - search.size(), '~');
                    const std::string want = std::string(at, '~') + replace + std::string(n - at - search.size(), '~');
                    std::string out;
                    ASSERT_TRUE(r.rewrite(in, out)) << pairs->size() << " pairs, " << search << " at " << at << " of " << n;
                    ASSERT_EQ(out, want);
                }
            }
        }
    }
}

// A straightforward reference of the plain-text rule, checked against the rewriter on random text.
namespace naive {
bool word(int c) { return std::isalnum(c) || c >= 0x80 || c == '-' || c == '.' || c == '_'; }
bool alnumish(int c) { return std::isalnum(c) || c >= 0x80; }
int hexv(char c) { return std::isxdigit(static_cast<unsigned char>(c)) ? std::stoi(std::string(1, c), nullptr, 16) : -1; }
// Logical char at i: (char, width), or (-1, 0) at end.
std::pair<int, size_t> at(const std::string& t, size_t i) {
    if (i >= t.size()) return {-1, 0};
    if (t[i] == '%' && i + 2 < t.size() && hexv(t[i + 1]) >= 0 && hexv(t[i + 2]) >= 0) return {hexv(t[i + 1]) * 16 + hexv(t[i + 2]), 3};
    if (t[i] == '\\' && i + 5 < t.size() && t[i + 1] == 'u' && hexv(t[i + 2]) >= 0 && hexv(t[i + 3]) >= 0 && hexv(t[i + 4]) >= 0 && hexv(t[i + 5]) >= 0) {
        int v = std::stoi(t.substr(i + 2, 4), nullptr, 16);
        return {v < 0x80 ? v : 0x80, 6};
    }
    return {static_cast<unsigned char>(t[i]), 1};
}
int before(const std::string& t, size_t i) {
    if (i == 0) return -1;
    if (i >= 3 && t[i - 3] == '%' && hexv(t[i - 2]) >= 0 && hexv(t[i - 1]) >= 0) return hexv(t[i - 2]) * 16 + hexv(t[i - 1]);
    if (i >= 6 && t[i - 6] == '\\' && t[i - 5] == 'u' && hexv(t[i - 4]) >= 0 && hexv(t[i - 3]) >= 0 && hexv(t[i - 2]) >= 0 && hexv(t[i - 1]) >= 0) {
        int v = std::stoi(t.substr(i - 4, 4), nullptr, 16);
        return v < 0x80 ? v : 0x80;
    }
    return static_cast<unsigned char>(t[i - 1]);
}
bool right_ok(const std::string& t, size_t i) {
    auto [c, w] = at(t, i);
    if (c < 0) return true;
    if (alnumish(c)) return false;
    if (c == '-' || c == '.' || c == '_') {
        size_t j = i + w;
        auto [d, dw] = at(t, j);
        while (d == '-' || d == '.' || d == '_') {
            j += dw;
            std::tie(d, dw) = at(t, j);
        }
        return !(d >= 0 && alnumish(d));
    }
    if (c == ':') {
        int d = at(t, i + w).first;
        return !(d >= '0' && d <= '9');
    }
    return true;
}
std::string apply(const Pairs& pairs, const std::string& t) {
    // Searches here start with a word char or "//" and end with a word char.
    std::string out;
    size_t i = 0;
    while (i < t.size()) {
        const std::pair<std::string, std::string>* best = nullptr;
        for (const auto& pr : pairs) {
            const std::string& s = pr.first;
            if (t.compare(i, s.size(), s) != 0) continue;
            int b = before(t, i);
            if (s.compare(0, 2, "//") == 0) {
                if (b >= 0 && (word(b) || b == '/')) continue;
            } else if (b >= 0 && word(b)) {
                continue;
            }
            if (!right_ok(t, i + s.size())) continue;
            if (!best || s.size() > best->first.size()) best = &pr;
        }
        if (best) {
            out += best->second;
            i += best->first.size();
        } else {
            out += t[i++];
        }
    }
    return out;
}
}  // namespace naive

TEST(RewritePlain, AgreesWithANaiveMatcherOnRandomText) {
    const Pairs pairs = {{"old.example", "NEW"}, {"//old.example", "//NEW2"}, {"https://old.example", "HTTPS"},
                         {"old.example/wp", "WP"}, {"x", "Y"}};
    const Rewriter r(pairs);
    const std::vector<std::string> atoms = {"old.example", "//", "https:", "/wp", "x", ".", "-", "_", "a", "1", ":",
                                            "8", "%2F", "%2D", "%3A", "\\u002F", "\\u002e", "/", " ", "\"", "\xc3\xa9", "ol"};
    std::mt19937 rng(1234);
    for (int iter = 0; iter < 5000; ++iter) {
        std::string t;
        // Mostly short texts; every fifth long enough for the scanner's vector loop and its last block.
        const int k = static_cast<int>(iter % 5 == 0 ? rng() % 90 : rng() % 14);
        for (int j = 0; j < k; ++j) t += atoms[rng() % atoms.size()];
        std::string out;
        const std::string got = r.rewrite(t, out) ? out : t;
        ASSERT_EQ(got, naive::apply(pairs, t)) << "input: " << t;
    }
}

// Searches that overlap each other in every way (one inside another, one's end another's start), made of
// characters that no boundary rule looks at, so the rule left is: leftmost match, the longest at one position,
// no overlaps. This is what the precomputed rivals of each search (and the trie that finds them) must give.
TEST(RewritePlain, OverlappingSearchesAgreeWithAGreedyMatcher) {
    std::mt19937 rng(99);
    const std::string alphabet = "!#;=,";
    auto random_text = [&](size_t max_len) {
        std::string t(rng() % (max_len + 1), ' ');
        for (char& c : t) c = alphabet[rng() % alphabet.size()];
        return t;
    };
    for (int set = 0; set < 400; ++set) {
        Pairs pairs;
        std::set<std::string> seen;
        const int n = 1 + static_cast<int>(rng() % 10);
        while (static_cast<int>(pairs.size()) < n) {
            std::string search = random_text(6);
            if (search.empty() || !seen.insert(search).second) continue;
            pairs.emplace_back(search, "<" + std::to_string(pairs.size()) + ">");
        }
        const Rewriter r(pairs);
        for (int iter = 0; iter < 40; ++iter) {
            const std::string t = random_text(iter % 4 == 0 ? 120 : 20);
            std::string want;
            for (size_t i = 0; i < t.size();) {
                const std::pair<std::string, std::string>* best = nullptr;
                for (const auto& pr : pairs)
                    if (t.compare(i, pr.first.size(), pr.first) == 0 && (!best || pr.first.size() > best->first.size())) best = &pr;
                want += best ? best->second : std::string(1, t[i]);
                i += best ? best->first.size() : 1;
            }
            std::string out;
            const std::string got = r.rewrite(t, out) ? out : t;
            ASSERT_EQ(got, want) << "set " << set << ", text: " << t;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Serialized data.

TEST(RewriteSerialized, StringLengthIsFixed) {
    const Rewriter r = simple();
    EXPECT_EQ(rw(r, S(kOld)), S(kNew));
    EXPECT_EQ(rw(r, S("Go to " + kOld + "/x now")), S("Go to " + kNew + "/x now"));
}

TEST(RewriteSerialized, MultibyteLengthsAreBytes) {
    const std::string emoji = "\xF0\x9F\x9A\x80 caf\xC3\xA9 ";  // rocket, "café"
    const std::string in = "a:1:{s:4:\"text\";" + S(emoji + kOld + "/\xE2\x9C\x93") + "}";
    // 4 (rocket) + 4 (" caf") + 2 ("é") + 1 + 21 (new URL) + 1 ("/") + 3 ("✓") = 36 bytes.
    const std::string want = "a:1:{s:4:\"text\";s:36:\"" + emoji + kNew + "/\xE2\x9C\x93\";}";
    EXPECT_EQ(rw(simple(), in), want);
    EXPECT_NE(in.find("s:34:"), std::string::npos);
}

TEST(RewriteSerialized, ArrayKeysAndValuesRewritten) {
    const std::string in = "a:2:{" + S(kOld) + S(kOld + "/a") + "i:7;a:1:{" + S("u") + S(kOld) + "}}";
    const std::string want = "a:2:{" + S(kNew) + S(kNew + "/a") + "i:7;a:1:{" + S("u") + S(kNew) + "}}";
    EXPECT_EQ(rw(simple(), in), want);
}

TEST(RewriteSerialized, UrlKeyAsWordPressStoresIt) {
    // The shape real sites have: an option keyed by the site URL, the key's length fixed.
    const Rewriter r(Pairs{{"http://127.0.0.1:8081", "https://dest.example.test"}});
    EXPECT_EQ(rw(r, "a:1:{s:21:\"http://127.0.0.1:8081\";s:5:\"value\";}"),
              "a:1:{s:25:\"https://dest.example.test\";s:5:\"value\";}");
    // A key holding a longer URL, in a nested array, next to an integer key; a key that is itself
    // serialized data is followed like a value.
    const std::string in = "a:2:{i:0;a:2:{" + S("http://127.0.0.1:8081/wp-json/x") + "b:1;" + S("k") + S("v") + "}" +
                           S(S("http://127.0.0.1:8081")) + "N;}";
    const std::string want = "a:2:{i:0;a:2:{" + S("https://dest.example.test/wp-json/x") + "b:1;" + S("k") + S("v") + "}" +
                             S(S("https://dest.example.test")) + "N;}";
    EXPECT_EQ(rw(r, in), want);
}

TEST(RewriteSerialized, NearMissKeysUntouched) {
    const Rewriter r = Rewriter::for_site_move(move_https());
    for (const std::string& k : std::vector<std::string>{kOld + ".au", kOld + ":8080", "notold.example", kOld + "-cdn.net/x", "/var/www/old2"}) {
        const std::string in = "a:2:{" + S(k) + "i:1;" + S("x") + S(kOld) + "}";
        EXPECT_EQ(rw(r, in), "a:2:{" + S(k) + "i:1;" + S("x") + S(kNew) + "}") << k;
    }
}

TEST(RewriteSerialized, PropertyNamesClassAndEnumNamesNotRewritten) {
    // Property names (public, and NUL-mangled private/protected) are identifiers: left alone; their
    // values, and the keys of arrays inside objects, are rewritten.
    const std::string priv = std::string("\0Widget\0", 8) + kOld;
    const std::string prot = std::string("\0*\0", 3) + kOld;
    const std::string in = "O:6:\"Widget\":4:{" + S(kOld) + S(kOld) + S(priv) + "i:1;" + S(prot) + "i:2;" + S("list") +
                           "a:1:{" + S(kOld) + "E:11:\"Suit:Hearts\";}}";
    const std::string want = "O:6:\"Widget\":4:{" + S(kOld) + S(kNew) + S(priv) + "i:1;" + S(prot) + "i:2;" + S("list") +
                             "a:1:{" + S(kNew) + "E:11:\"Suit:Hearts\";}}";
    EXPECT_EQ(rw(simple(), in), want);
    const Pairs host = {{"Widget", "Gadget"}, {"Suit", "Card"}};
    const std::string obj = "O:6:\"Widget\":1:{" + S("a") + "E:11:\"Suit:Hearts\";}";
    EXPECT_EQ(rw(host, obj), obj);
}

TEST(RewriteSerialized, KeysThatCollideAfterRewritingLeaveTheValueUntouched) {
    // PHP's array would keep one of the two entries: the value is left alone and counted as unsafe.
    const Rewriter r = Rewriter::for_site_move(move_https());
    const std::vector<std::string> colliding = {
        "a:2:{" + S(kOld) + "i:1;" + S(kNew) + "i:2;}",                               // rewritten key == existing key
        "a:2:{" + S(kNew) + "i:1;" + S(kOld) + "i:2;}",                               // (either order)
        "a:3:{" + S("https://old.example/x") + "i:1;" + S("x") + S(kOld) + S("http://old.example/x") + "i:2;}",  // two rewritten keys
        "a:2:{i:0;" + S(kOld) + "i:1;a:2:{" + S(kOld + "/a") + "i:1;" + S("http://old.example/a") + "i:2;}}",  // nested
    };
    for (const std::string& v : colliding) {
        RewriteReport rep;
        EXPECT_EQ(rw(r, v, &rep), v) << v;
        EXPECT_EQ(rep.values_skipped_unsafe, 1u) << v;
        EXPECT_EQ(rep.values_changed, 0u) << v;
    }
    // Only the serialized level that holds the colliding array is left alone: around it, rewritten.
    const std::string inner = "a:2:{" + S(kOld) + "i:1;" + S(kNew) + "i:2;}";
    RewriteReport rep;
    EXPECT_EQ(rw(r, "a:2:{i:0;" + S(inner) + "i:1;" + S(kOld) + "}", &rep), "a:2:{i:0;" + S(inner) + "i:1;" + S(kNew) + "}");
    EXPECT_EQ(rep.values_skipped_unsafe, 1u);
    EXPECT_EQ(rep.values_changed, 1u);
    // Keys that stay distinct are fine, also when equal to keys of another array, or to property names.
    const std::string ok = "a:2:{" + S(kOld) + "a:1:{" + S(kNew) + "i:1;}" + S(kOld + "/b") + "O:8:\"stdClass\":1:{" + S(kNew) + "i:1;}}";
    const std::string ok_want = "a:2:{" + S(kNew) + "a:1:{" + S(kNew) + "i:1;}" + S(kNew + "/b") + "O:8:\"stdClass\":1:{" + S(kNew) + "i:1;}}";
    EXPECT_EQ(rw(r, ok), ok_want);
}

TEST(RewriteSerialized, KeyThatBecomesAnIntegerIsUnsafe) {
    // PHP would turn the string key "42" into the integer key 42: left alone, counted.
    const Pairs pairs = {{"old.example", "42"}};
    const std::string in = "a:2:{" + S("old.example") + "i:1;i:5;" + S("old.example") + "}";
    RewriteReport rep;
    EXPECT_EQ(rw(pairs, in, &rep), in);
    EXPECT_EQ(rep.values_skipped_unsafe, 1u);
    // As a value it is only text.
    EXPECT_EQ(rw(pairs, "a:1:{i:5;" + S("old.example") + "}"), "a:1:{i:5;" + S("42") + "}");
}

TEST(RewriteSerialized, UnsafeKeyLeftAloneRestRewritten) {
    // A key that holds a length-prefixed string it is not: the key is untouched, the rest rewritten.
    const std::string bad_key = "s:3:\"" + kOld + "\";";
    const std::string in = "a:2:{" + S(bad_key) + "i:1;" + S(kOld) + S(kOld) + "}";
    RewriteReport rep;
    EXPECT_EQ(rw(simple(), in, &rep), "a:2:{" + S(bad_key) + "i:1;" + S(kNew) + S(kNew) + "}");
    EXPECT_EQ(rep.values_skipped_unsafe, 1u);
}

TEST(RewriteSerialized, ObjectsWithPrivateAndProtectedProperties) {
    const std::string priv = std::string("\0Widget\0url", 11);
    const std::string prot = std::string("\0*\0link", 7);
    const std::string in = "O:6:\"Widget\":3:{" + S(priv) + S(kOld + "/a") + S(prot) + S(kOld) + S("title") + S("hi") + "}";
    const std::string want = "O:6:\"Widget\":3:{" + S(priv) + S(kNew + "/a") + S(prot) + S(kNew) + S("title") + S("hi") + "}";
    EXPECT_EQ(rw(simple(), in), want);
}

TEST(RewriteSerialized, UnknownClassesEnumsAndScalarsCopiedVerbatim) {
    const std::string mid = "i:0;d:0.30000000000000004;i:1;d:1.0E+25;i:2;d:-INF;i:3;d:NAN;i:4;b:1;i:5;N;i:6;i:-5;"
                            "i:7;E:11:\"Suit:Hearts\";";
    const std::string in = "a:9:{" + mid + "i:8;O:18:\"Gone_Plugin_Config\":1:{" + S("home") + S(kOld) + "}}";
    const std::string want = "a:9:{" + mid + "i:8;O:18:\"Gone_Plugin_Config\":1:{" + S("home") + S(kNew) + "}}";
    EXPECT_EQ(rw(simple(), in), want);
}

TEST(RewriteSerialized, References) {
    const std::string in = "a:3:{i:0;" + S(kOld) + "i:1;R:2;i:2;O:8:\"stdClass\":1:{" + S("self") + "r:1;}}";
    const std::string want = "a:3:{i:0;" + S(kNew) + "i:1;R:2;i:2;O:8:\"stdClass\":1:{" + S("self") + "r:1;}}";
    EXPECT_EQ(rw(simple(), in), want);
}

TEST(RewriteSerialized, NestedSerializedThreeLevels) {
    const std::string l3 = "a:1:{i:0;" + S(kOld + "/deep") + "}";
    const std::string l2 = "a:2:{i:0;" + S(l3) + "i:1;" + S(kOld) + "}";
    const std::string l1 = "a:1:{s:4:\"data\";" + S(l2) + "}";
    const std::string in = S(l1);  // a double-serialized option
    const std::string n3 = "a:1:{i:0;" + S(kNew + "/deep") + "}";
    const std::string n2 = "a:2:{i:0;" + S(n3) + "i:1;" + S(kNew) + "}";
    const std::string n1 = "a:1:{s:4:\"data\";" + S(n2) + "}";
    EXPECT_EQ(rw(simple(), in), S(n1));
}

TEST(RewriteSerialized, SurroundingWhitespaceAtTopLevelIsKept) {
    const std::string in = "  a:1:{i:0;" + S(kOld) + "}\n";
    EXPECT_EQ(rw(simple(), in), "  a:1:{i:0;" + S(kNew) + "}\n");
}

TEST(RewriteSerialized, BoundariesAreThoseOfTheString) {
    // The text around a serialized string is not part of it: a match at its very start/end is bounded.
    const Pairs host = {{"old.example", "new.test"}};
    EXPECT_EQ(rw(host, "a:2:{i:0;" + S("old.example") + "i:1;" + S("xold.example") + "}"),
              "a:2:{i:0;" + S("new.test") + "i:1;" + S("xold.example") + "}");
}

TEST(RewriteSerialized, CustomSerializedPayloadLeftAloneAndCounted) {
    const std::string payload = "x:i:0;a:1:{i:0;" + S(kOld) + "};m:a:0:{}";
    const std::string c = "C:11:\"ArrayObject\":" + std::to_string(payload.size()) + ":{" + payload + "}";
    const std::string in = "a:2:{i:0;" + c + "i:1;" + S(kOld) + "}";
    RewriteReport rep;
    EXPECT_EQ(rw(simple(), in, &rep), "a:2:{i:0;" + c + "i:1;" + S(kNew) + "}");
    EXPECT_EQ(rep.values_changed, 1u);
    EXPECT_EQ(rep.values_skipped_unsafe, 1u);
}

TEST(RewriteSerialized, CorruptOrTruncatedIsLeftUntouchedAndCounted) {
    const Rewriter r = simple();
    const std::vector<std::string> bad = {
        "a:1:{i:0;s:5:\"" + kOld + "\";}",                  // wrong length
        "a:2:{i:0;s:19:\"" + kOld,                          // truncated
        "a:1:{i:0;" + S(kOld) + "}trailing",                 // junk after the value
        "a:2:{i:0;" + S(kOld) + "}",                         // wrong count
        "s:40:\"" + kOld + "\";",                            // truncated string
        "O:8:\"stdClass\":1:{" + S("a") + S(kOld),           // unterminated object
        "x a:1:{i:0;s:19:\"" + kOld + "\";}" ,               // s:N:" region around the match
        "<p>s:30:\"https://old.example/x\";</p>",
    };
    for (const std::string& v : bad) {
        RewriteReport rep;
        EXPECT_EQ(rw(r, v, &rep), v) << v;
        EXPECT_EQ(rep.values_skipped_unsafe, 1u) << v;
        EXPECT_EQ(rep.values_changed, 0u) << v;
    }
}

TEST(RewriteSerialized, LengthPrefixElsewhereInPlainTextIsHarmless) {
    // Not shaped like serialized data, and the match lies past the declared length of s:3:"...".
    RewriteReport rep;
    EXPECT_EQ(rw(simple(), "PHP writes s:3:\"abc\"; see " + kOld + "/docs", &rep), "PHP writes s:3:\"abc\"; see " + kNew + "/docs");
    EXPECT_EQ(rep.values_skipped_unsafe, 0u);
}

TEST(RewriteSerialized, CorruptInnerStringLeftAloneRestRewritten) {
    const std::string corrupt = "a:1:{i:0;s:3:\"" + kOld + "\";}";  // inner serialized data, wrong length
    const std::string in = "a:2:{i:0;" + S(corrupt) + "i:1;" + S(kOld) + "}";
    RewriteReport rep;
    EXPECT_EQ(rw(simple(), in, &rep), "a:2:{i:0;" + S(corrupt) + "i:1;" + S(kNew) + "}");
    EXPECT_EQ(rep.values_skipped_unsafe, 1u);
    EXPECT_EQ(rep.values_changed, 1u);
}

TEST(RewriteSerialized, HostileDepthDoesNotExhaustTheStack) {
    const Rewriter r = simple();
    // 100000 nested arrays: beyond the container depth limit -> not well-formed -> unsafe, untouched.
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += "a:1:{i:0;";
    deep += S(kOld);
    for (int i = 0; i < 100000; ++i) deep += "}";
    RewriteReport rep;
    EXPECT_EQ(rw(r, deep, &rep), deep);
    EXPECT_EQ(rep.values_skipped_unsafe, 1u);

    // 4000 nested arrays is within PHP's default limit and is rewritten.
    std::string ok, want;
    for (int i = 0; i < 4000; ++i) ok += "a:1:{i:0;";
    want = ok;
    ok += S(kOld);
    want += S(kNew);
    for (int i = 0; i < 4000; ++i) ok += "}", want += "}";
    EXPECT_EQ(rw(r, ok), want);

    // 2000 levels of serialized strings inside serialized strings.
    std::string nest = kOld;
    for (int i = 0; i < 2000; ++i) nest = S(nest);
    RewriteReport rep2;
    EXPECT_EQ(rw(r, nest, &rep2), nest);
    EXPECT_EQ(rep2.values_skipped_unsafe, 1u);

    // 30 levels are followed all the way down.
    std::string n30 = kOld, w30 = kNew;
    for (int i = 0; i < 30; ++i) n30 = S(n30), w30 = S(w30);
    EXPECT_EQ(rw(r, n30), w30);
}

TEST(RewriteSerialized, ScalarValuesAndEmptyContainers) {
    const Rewriter r = simple();
    for (const char* v : {"b:0;", "i:1;", "N;", "a:0:{}", "d:0.5;"}) EXPECT_EQ(rw(r, v), v);
}

// ---------------------------------------------------------------------------------------------
// Site moves: the forms a URL takes.

TEST(SiteMove, PlainHttpAndHttpsMapToTheDestinationScheme) {
    const Rewriter r = Rewriter::for_site_move(move_https());
    EXPECT_EQ(rw(r, "<a href=\"https://old.example/about/\">"), "<a href=\"https://new-site.test/about/\">");
    EXPECT_EQ(rw(r, "<a href=\"http://old.example/about/\">"), "<a href=\"https://new-site.test/about/\">");
    EXPECT_EQ(rw(r, "<img src=\"//old.example/a.png\">"), "<img src=\"//new-site.test/a.png\">");
    EXPECT_EQ(rw(r, "https://old.example.au/"), "https://old.example.au/");

    SiteMove to_http = move_https();
    to_http.to_url = "http://localhost:8081/";
    const Rewriter h = Rewriter::for_site_move(to_http);
    EXPECT_EQ(rw(h, "https://old.example/x http://old.example"), "http://localhost:8081/x http://localhost:8081");
}

// Host names are case-insensitive: a site whose settings spell its address with capitals has links
// typed in lower case too. Both spellings move; the path keeps its case (paths are case-sensitive).
TEST(SiteMove, HostWithCapitalsAlsoMatchesInLowerCase) {
    SiteMove m;
    m.from_urls = {"https://Old.Example:8443/Blog"};
    m.to_url = "https://new-site.test";
    const Rewriter r = Rewriter::for_site_move(m);
    EXPECT_EQ(rw(r, "<a href=\"https://Old.Example:8443/Blog/x\">"), "<a href=\"https://new-site.test/x\">");
    EXPECT_EQ(rw(r, "<a href=\"https://old.example:8443/Blog/x\">"), "<a href=\"https://new-site.test/x\">");
    EXPECT_EQ(rw(r, "{\"u\":\"http:\\/\\/old.example:8443\\/Blog\"}"), "{\"u\":\"https:\\/\\/new-site.test\"}");
    EXPECT_EQ(rw(r, "?r=https%3A%2F%2Fold.example%3A8443%2FBlog"), "?r=https%3A%2F%2Fnew-site.test");
    EXPECT_EQ(rw(r, S("//old.example:8443/Blog/a.png")), S("//new-site.test/a.png"));
    // The path is not folded, and a lower-case address does not gain a capitalised twin.
    EXPECT_EQ(rw(r, "https://old.example:8443/blog/x"), "https://old.example:8443/blog/x");
    const Rewriter lower = Rewriter::for_site_move(move_https());
    EXPECT_EQ(rw(lower, "https://Old.Example/x"), "https://Old.Example/x");
}

TEST(SiteMove, SiteurlBelowHomeKeepsItsPath) {
    SiteMove m = move_https();
    m.to_url = "https://new-site.test/sub";
    const Rewriter r = Rewriter::for_site_move(m);
    EXPECT_EQ(rw(r, "https://old.example/wp/wp-admin/"), "https://new-site.test/sub/wp/wp-admin/");
    EXPECT_EQ(rw(r, "https://old.example/wp-content/x"), "https://new-site.test/sub/wp-content/x");
}

TEST(SiteMove, JsonEscaped) {
    const Rewriter r = Rewriter::for_site_move(move_https());
    EXPECT_EQ(rw(r, "{\"url\":\"https:\\/\\/old.example\\/x\",\"p\":\"\\/var\\/www\\/old\\/wp-content\"}"),
              "{\"url\":\"https:\\/\\/new-site.test\\/x\",\"p\":\"\\/srv\\/sites\\/new\\/wp-content\"}");
    EXPECT_EQ(rw(r, "{\"u\":\"\\/\\/old.example\\/x\"}"), "{\"u\":\"\\/\\/new-site.test\\/x\"}");
    EXPECT_EQ(rw(r, "\"https:\\/\\/old.example.au\\/\""), "\"https:\\/\\/old.example.au\\/\"");
}

// JSON text escaped once more: by addslashes() (or an encoder that leaves '/' alone) over JSON, "\\/";
// JSON kept inside a JSON string, "\\\/". Both are rewritten in their own escaping, with the same
// boundaries as the other forms.
TEST(SiteMove, NestedJsonEscapes) {
    const Rewriter r = Rewriter::for_site_move(move_https());
    // json_encode(['cfg' => json_encode([...])]): every "\/" of the inner document becomes "\\\/".
    const std::string outer = "{\"cfg\":\"{\\\"u\\\":\\\"http:\\\\\\/\\\\\\/old.example\\\\\\/a\\\"}\"}";
    EXPECT_EQ(rw(r, outer), "{\"cfg\":\"{\\\"u\\\":\\\"https:\\\\\\/\\\\\\/new-site.test\\\\\\/a\\\"}\"}");
    EXPECT_EQ(rw(r, "https:\\\\/\\\\/old.example\\\\/x"), "https:\\\\/\\\\/new-site.test\\\\/x");
    EXPECT_EQ(rw(r, "\\\\\\/\\\\\\/old.example\\\\\\/x"), "\\\\\\/\\\\\\/new-site.test\\\\\\/x");
    EXPECT_EQ(rw(r, "\\\\\\/var\\\\\\/www\\\\\\/old\\\\\\/wp"), "\\\\\\/srv\\\\\\/sites\\\\\\/new\\\\\\/wp");
    // Boundaries as in the other forms: another host, a word or a slash right before "//".
    EXPECT_EQ(rw(r, "https:\\\\/\\\\/old.example.au"), "https:\\\\/\\\\/old.example.au");
    EXPECT_EQ(rw(r, "x\\\\/\\\\/old.example"), "x\\\\/\\\\/old.example");
    EXPECT_EQ(rw(r, "\\\\/\\\\/\\\\/old.example"), "\\\\/\\\\/\\\\/old.example");
    EXPECT_EQ(rw(r, "\\\\\\/var\\\\\\/www\\\\\\/old2"), "\\\\\\/var\\\\\\/www\\\\\\/old2");
    // And inside serialized data, where the length prefix follows.
    EXPECT_EQ(rw(r, "a:1:{i:0;" + S(outer) + "}"),
              "a:1:{i:0;" + S("{\"cfg\":\"{\\\"u\\\":\\\"https:\\\\\\/\\\\\\/new-site.test\\\\\\/a\\\"}\"}") + "}");
}

TEST(SiteMove, UnicodeEscapedSlashesBothCases) {
    const Rewriter r = Rewriter::for_site_move(move_https());
    EXPECT_EQ(rw(r, "https:\\u002F\\u002Fold.example\\u002Fx"), "https:\\u002F\\u002Fnew-site.test\\u002Fx");
    EXPECT_EQ(rw(r, "https:\\u002f\\u002fold.example\\u002fx"), "https:\\u002f\\u002fnew-site.test\\u002fx");
    EXPECT_EQ(rw(r, "http:\\u002F\\u002Fold.example"), "https:\\u002F\\u002Fnew-site.test");
}

TEST(SiteMove, UrlEncodedBothCases) {
    const Rewriter r = Rewriter::for_site_move(move_https());
    EXPECT_EQ(rw(r, "?redirect=https%3A%2F%2Fold.example%2Fcart"), "?redirect=https%3A%2F%2Fnew-site.test%2Fcart");
    EXPECT_EQ(rw(r, "?redirect=https%3a%2f%2fold.example%2fcart"), "?redirect=https%3a%2f%2fnew-site.test%2fcart");
    EXPECT_EQ(rw(r, "?r=http%3A%2F%2Fold.example"), "?r=https%3A%2F%2Fnew-site.test");
    EXPECT_EQ(rw(r, "?r=https%3A%2F%2Fold.example.au"), "?r=https%3A%2F%2Fold.example.au");
}

TEST(SiteMove, AbspathAndItsBoundary) {
    const Rewriter r = Rewriter::for_site_move(move_https());
    EXPECT_EQ(rw(r, "/var/www/old/wp-content/uploads"), "/srv/sites/new/wp-content/uploads");
    EXPECT_EQ(rw(r, "/var/www/old"), "/srv/sites/new");
    EXPECT_EQ(rw(r, "/var/www/old2/x"), "/var/www/old2/x");
    EXPECT_EQ(rw(r, "/var/www/old-backup/x"), "/var/www/old-backup/x");
    EXPECT_EQ(rw(r, S("/var/www/old/wp-content/cache")), S("/srv/sites/new/wp-content/cache"));
}

TEST(SiteMove, ExpandedPairs) {
    const Rewriter r = Rewriter::for_site_move(move_https());
    auto has = [&](const std::string& s, const std::string& rep) {
        for (const auto& pr : r.pairs())
            if (pr.first == s) return pr.second == rep;
        return false;
    };
    EXPECT_TRUE(has("https://old.example", "https://new-site.test"));
    EXPECT_TRUE(has("http://old.example", "https://new-site.test"));
    EXPECT_TRUE(has("//old.example", "//new-site.test"));
    EXPECT_TRUE(has("https://old.example/wp", "https://new-site.test/wp"));
    EXPECT_TRUE(has("https:\\/\\/old.example", "https:\\/\\/new-site.test"));
    EXPECT_TRUE(has("http:\\\\/\\\\/old.example", "https:\\\\/\\\\/new-site.test"));
    EXPECT_TRUE(has("https:\\\\\\/\\\\\\/old.example", "https:\\\\\\/\\\\\\/new-site.test"));
    EXPECT_TRUE(has("\\\\\\/var\\\\\\/www\\\\\\/old", "\\\\\\/srv\\\\\\/sites\\\\\\/new"));
    EXPECT_TRUE(has("https:\\u002F\\u002Fold.example", "https:\\u002F\\u002Fnew-site.test"));
    EXPECT_TRUE(has("https:\\u002f\\u002fold.example", "https:\\u002f\\u002fnew-site.test"));
    EXPECT_TRUE(has("https%3A%2F%2Fold.example", "https%3A%2F%2Fnew-site.test"));
    EXPECT_TRUE(has("https%3a%2f%2fold.example", "https%3a%2f%2fnew-site.test"));
    EXPECT_TRUE(has("%2F%2Fold.example", "%2F%2Fnew-site.test"));
    EXPECT_TRUE(has("/var/www/old", "/srv/sites/new"));
    EXPECT_TRUE(has("\\/var\\/www\\/old", "\\/srv\\/sites\\/new"));
}

TEST(SiteMove, AllFormsInsideSerializedData) {
    const Rewriter r = Rewriter::for_site_move(move_https());
    const std::string json = "{\"link\":\"https:\\/\\/old.example\\/x\"}";
    const std::string in = "a:3:{i:0;" + S(json) + "i:1;" + S("https%3A%2F%2Fold.example") + "i:2;" + S("/var/www/old/a") + "}";
    const std::string want = "a:3:{i:0;" + S("{\"link\":\"https:\\/\\/new-site.test\\/x\"}") + "i:1;" +
                             S("https%3A%2F%2Fnew-site.test") + "i:2;" + S("/srv/sites/new/a") + "}";
    EXPECT_EQ(rw(r, in), want);
}

// The PHP face's default: URL and path pairs in every form, the way a site move makes them.
TEST(SiteMove, WithAllFormsCoversEveryFormOfUrlAndPathPairs) {
    const Rewriter r = Rewriter::with_all_forms(
        {{"https://old.example/", "https://new.test/"}, {"/var/www/old", "/srv/new"}, {"old.host", "new.host"}});
    EXPECT_EQ(rw(r, "https://old.example/a"), "https://new.test/a");
    EXPECT_EQ(rw(r, "http://old.example"), "https://new.test");
    EXPECT_EQ(rw(r, "<a href=\"//old.example/a\">"), "<a href=\"//new.test/a\">");
    EXPECT_EQ(rw(r, "{\"u\":\"http:\\/\\/old.example\\/a\"}"), "{\"u\":\"https:\\/\\/new.test\\/a\"}");
    EXPECT_EQ(rw(r, "https:\\\\\\/\\\\\\/old.example"), "https:\\\\\\/\\\\\\/new.test");
    EXPECT_EQ(rw(r, "?r=https%3A%2F%2Fold.example%2Fa"), "?r=https%3A%2F%2Fnew.test%2Fa");
    EXPECT_EQ(rw(r, "http:\\u002f\\u002fold.example"), "https:\\u002f\\u002fnew.test");
    EXPECT_EQ(rw(r, "\\/var\\/www\\/old\\/x"), "\\/srv\\/new\\/x");
    EXPECT_EQ(rw(r, "%2Fvar%2Fwww%2Fold%2Fx"), "%2Fsrv%2Fnew%2Fx");
    // Boundaries hold in the generated forms too; a bare host is used as given only.
    EXPECT_EQ(rw(r, "http://old.example.au/"), "http://old.example.au/");
    EXPECT_EQ(rw(r, "https%3A%2F%2Fold.example-cdn.net"), "https%3A%2F%2Fold.example-cdn.net");
    EXPECT_EQ(rw(r, "mail@old.host, old.hostile"), "mail@new.host, old.hostile");
    // A pair as given wins over a generated one with the same search.
    const Rewriter e = Rewriter::with_all_forms({{"https://old.example", "https://new.test"}, {"http://old.example", "http://keep.test"}});
    EXPECT_EQ(rw(e, "http://old.example/a https://old.example/b"), "http://keep.test/a https://new.test/b");
    // A replacement that is no URL: the pair as given, nothing more.
    const Rewriter t = Rewriter::with_all_forms({{"https://old.example", "TOKEN"}});
    EXPECT_EQ(rw(t, "http://old.example https://old.example/x"), "http://old.example TOKEN/x");
    // Literal pairs stay literal.
    const Rewriter l(Pairs{{"https://old.example", "https://new.test"}});
    EXPECT_EQ(rw(l, "http://old.example https:\\/\\/old.example"), "http://old.example https:\\/\\/old.example");
}

TEST(SiteMove, InvalidInputThrowsUsage) {
    SiteMove m = move_https();
    m.to_url = "ftp://x";
    try {
        Rewriter::for_site_move(m);
        FAIL() << "no exception";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::usage);
    }
    EXPECT_THROW(Rewriter::for_site_move(SiteMove{}), Error);
}

// ---------------------------------------------------------------------------------------------
// WPBakery base64 blocks.

TEST(RewriteVc, RawHtmlIsDecodedRewrittenAndReencoded) {
    const Rewriter r = Rewriter::for_site_move(move_https());
    const std::string html = "<a href=\"https://old.example/shop\">Shop \xE2\x9C\x93</a><img src=\"http://old.example/a.png\">";
    const std::string in = "<p>x</p>[vc_raw_html css=\".vc_custom_1{}\"]" + base64(rawurlencode(html)) + "[/vc_raw_html] after https://old.example";
    const std::string got = rw(r, in);
    const std::string want_html = "<a href=\"https://new-site.test/shop\">Shop \xE2\x9C\x93</a><img src=\"https://new-site.test/a.png\">";
    EXPECT_EQ(got, "<p>x</p>[vc_raw_html css=\".vc_custom_1{}\"]" + base64(rawurlencode(want_html)) + "[/vc_raw_html] after https://new-site.test");
    EXPECT_EQ(rawurldecode(base64_decode(base64(rawurlencode(want_html)))), want_html);
}

TEST(RewriteVc, RawJsAndInsideSerialized) {
    const Rewriter r = simple();
    const std::string js = "<script>var u='https://old.example/api';</script>";
    const std::string block = "[vc_raw_js]" + base64(rawurlencode(js)) + "[/vc_raw_js]";
    const std::string nblock = "[vc_raw_js]" + base64(rawurlencode("<script>var u='" + kNew + "/api';</script>")) + "[/vc_raw_js]";
    EXPECT_EQ(rw(r, block), nblock);
    EXPECT_EQ(rw(r, "a:1:{i:0;" + S(block) + "}"), "a:1:{i:0;" + S(nblock) + "}");
}

TEST(RewriteVc, NotCleanlyEncodedIsLeftAlone) {
    const Rewriter r = simple();
    const std::string html = "<a href=\"https://old.example/\">x</a>";
    // base64 of raw HTML (not rawurlencode()d), lower-case hex escapes, bad padding, no closing tag.
    std::string lower = rawurlencode(html);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const std::string& in : {"[vc_raw_html]" + base64(html) + "[/vc_raw_html]",
                                  "[vc_raw_html]" + base64(lower) + "[/vc_raw_html]",
                                  "[vc_raw_html]" + base64(rawurlencode(html)) + "=[/vc_raw_html]",
                                  "[vc_raw_html]" + base64(rawurlencode(html))}) {
        EXPECT_EQ(rw(r, in), in) << in;
    }
    // Without a URL inside: unchanged.
    const std::string plain = "[vc_raw_html]" + base64(rawurlencode("<b>hi</b>")) + "[/vc_raw_html]";
    EXPECT_EQ(rw(r, plain), plain);
}

TEST(RewriteVc, AvadaCodeBlocksAreDecodedRewrittenAndReencoded) {
    const Rewriter r = Rewriter::for_site_move(move_https());
    const std::string code = "<script src=\"https://old.example/app.js\"></script>\xE2\x9C\x93";
    const std::string want = "<script src=\"https://new-site.test/app.js\"></script>\xE2\x9C\x93";
    EXPECT_EQ(rw(r, "[fusion_builder_column][fusion_code]" + base64(code) + "[/fusion_code][/fusion_builder_column]"),
              "[fusion_builder_column][fusion_code]" + base64(want) + "[/fusion_code][/fusion_builder_column]");
    EXPECT_EQ(rw(r, "[fusion_code id=\"c1\"]" + base64(code) + "[/fusion_code]"), "[fusion_code id=\"c1\"]" + base64(want) + "[/fusion_code]");
    // The code kept as it is (not base64): plain text.
    EXPECT_EQ(rw(r, "[fusion_code]" + code + "[/fusion_code]"), "[fusion_code]" + want + "[/fusion_code]");
    // Unclosed, or a longer tag name: not a block, plain text.
    EXPECT_EQ(rw(r, "[fusion_code]" + base64(code)), "[fusion_code]" + base64(code));
    EXPECT_EQ(rw(r, "[fusion_codex]" + base64(code) + "[/fusion_codex] https://old.example"),
              "[fusion_codex]" + base64(code) + "[/fusion_codex] https://new-site.test");
    // An unsafe match inside the decoded code leaves the block alone and counts the value.
    RewriteReport rep;
    const std::string unsafe = "[fusion_code]" + base64("a:1:{s:5:\"https://old.example\";}") + "[/fusion_code]";
    EXPECT_EQ(rw(r, unsafe, &rep), unsafe);
    EXPECT_EQ(rep.values_skipped_unsafe, 1u);
}

// ---------------------------------------------------------------------------------------------
// Construction and reporting.

TEST(RewriteApi, ConstructionErrors) {
    EXPECT_THROW(Rewriter(Pairs{{"", "x"}}), Error);
    EXPECT_THROW(Rewriter(Pairs{{"a", "b"}, {"a", "c"}}), Error);
    EXPECT_NO_THROW(Rewriter(Pairs{{"a", "b"}, {"a", "b"}}));
    const Rewriter none(Pairs{});
    std::string out = "s";
    EXPECT_FALSE(none.rewrite("anything https://old.example", out));
}

TEST(RewriteApi, ReportCounts) {
    const Rewriter r = simple();
    RewriteReport rep;
    std::string out;
    r.rewrite("x", out, &rep);
    r.rewrite(kOld, out, &rep);
    r.rewrite("a:1:{i:0;s:2:\"" + kOld + "\";}", out, &rep);
    EXPECT_EQ(rep.values_seen, 3u);
    EXPECT_EQ(rep.values_changed, 1u);
    EXPECT_EQ(rep.values_skipped_unsafe, 1u);
}

TEST(RewriteApi, MovableAndManyPairs) {
    Pairs pairs;
    for (int i = 0; i < 40; ++i) pairs.emplace_back("https://host" + std::to_string(i) + ".example", "https://h" + std::to_string(i) + ".test");
    Rewriter a(pairs);
    Rewriter b = std::move(a);
    EXPECT_EQ(rw(b, "https://host7.example/ https://host39.example https://host3.examples"),
              "https://h7.test/ https://h39.test https://host3.examples");
}

TEST(RewriteApi, ManyPairsInAllForms) {
    Pairs pairs;
    for (int i = 0; i < 20; ++i) pairs.emplace_back("https://host" + std::to_string(i) + ".example", "https://h" + std::to_string(i) + ".test");
    pairs.emplace_back("https://host3.example", "https://ignored.test");  // the first mapping of a search wins
    const Rewriter r = Rewriter::with_all_forms(pairs);
    EXPECT_EQ(r.pairs().size(), 20u * 3 * 8);  // two schemes and protocol-relative, each in 8 forms
    EXPECT_EQ(rw(r, "http:\\/\\/host19.example\\/ //host0.example https%3A%2F%2Fhost10.example https://host3.example"),
              "https:\\/\\/h19.test\\/ //h0.test https%3A%2F%2Fh10.test https://h3.test");
}

}  // namespace
