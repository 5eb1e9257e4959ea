// Search-and-replace inside stored WordPress values that never corrupts PHP-serialized data or JSON.
//
// A value is scanned as PHP-serialized data when it parses as such (at any depth, including serialized strings
// that hold serialized data); every s:N:"..." whose content changes gets its new byte length, everything else
// stays byte-for-byte. Otherwise it is plain text. Matches respect host and path boundaries, so a search for
// "//old.example" does not touch "//old.example.au" and "/sites/7/" does not touch "/sites/70/".
//
// MATCHING (plain text, and the content of every serialized string value)
//   Leftmost match first; at one position the longest search whose boundaries hold wins (a longer search
//   that fails its boundary falls back to a shorter one at the same position). Matches do not overlap and
//   replacements are never searched again (no chaining). A pair whose search equals its replacement
//   claims its span and changes nothing.
//
//   Boundaries look at "logical characters": %HH and \uHHHH escapes count as the character they encode
//   (a code point >= 0x80 as "some non-ASCII character"), so the rule holds in URL-encoded and JSON text.
//   word char  = ASCII letter or digit, any non-ASCII character, '-', '.', '_'
//   - End: a search whose last logical character is a word char (it ends inside a host or path segment)
//     matches only if the text after it does not continue that host/segment, i.e. the next character is
//     not (a) a letter, digit or non-ASCII character, (b) a run of '-', '.', '_' followed by one of
//     those (old.example.au, old.example-cdn.net, old.example_x; but "old.example." at the end of a
//     sentence and "old.example-" are fine), (c) ':' followed by a digit (a port: another origin).
//     A search ending in a separator ('/', '"', '%2F', '\/' ...) needs no end check.
//   - Start: a search whose first logical character is a word char (scheme-less "old.example", or
//     "https://...") matches only if the character before it is not a word char (notold.example,
//     cdn.old.example, my-old.example do not match; admin@old.example does). A protocol-relative search
//     (starting with "//", "\/\/", "\u002F\u002F" or "%2F%2F") also needs the character before it not
//     to be a word char nor '/' (so not "a//old.example", not "///old.example"; "https://" and
//     "https%3A%2F%2F" are fine). A search starting with a single '/' ("/sites/7/") has no start check.
//   The start and end of a serialized string's content count as boundaries.
//
// SERIALIZED DATA
//   Parsed without unserialize(), iteratively: N; b: i: d: s: a: O: C: E: r: R: (PHP's grammar; the top
//   level may have surrounding whitespace, as WordPress trims it). Replacement happens inside string
//   VALUES (array elements, object property values) and string KEYS of arrays (s:N: keys inside a:,
//   e.g. an option keyed by the site URL), each with its length fixed - never in object property names
//   (O: members' names, including private/protected names with NUL bytes), class names, enum names or
//   integer keys. A string value or array key whose content is itself well-formed serialized data is
//   treated the same way, recursively (64 levels deep; deeper text is plain). Arrays/objects may nest 4096 deep per level (PHP's unserialize_max_depth);
//   deeper data is not well-formed. C: custom-serialized payloads are left alone; a search inside one
//   counts the value as skipped (values_skipped_unsafe). Every token that is not a changed string is
//   copied verbatim (floats are never re-formatted). The result equals PHP's serialize(f(unserialize($v)))
//   where f replaces in every string value and string array key as above, for every value PHP
//   round-trips.
//
// ARRAY KEY COLLISIONS
//   Rewriting keys can make two keys of one array equal ("https://old.example" and "http://old.example"
//   both becoming the destination URL, or a rewritten key equal to a key already there), or turn a key
//   into what PHP reads as an integer key ("-?[0-9]+", leading zeros included). PHP's array would then
//   silently lose an entry or change the key's type, so the data's meaning would change. Such a value is
//   not rewritten: the serialized text that holds the array (the whole value; or, when the array is
//   inside a serialized string nested in the value, that string, while the rest around it is still
//   rewritten) is left byte-for-byte as it was and the value is counted in values_skipped_unsafe.
//
// UNSAFE TEXT
//   Text that is not well-formed serialized data (top level, or a string value) is plain text, except
//   that a match there is unsafe when it lies inside what looks like a length-prefixed string
//   (s:N:" or s:N:\", also S:): at or after such a prefix when the text starts like serialized data
//   (a:, O:, s:, i: ..., N;), else within N bytes after the prefix (6N for the escaped \" form). Then that
//   text is left untouched entirely and the value is counted in values_skipped_unsafe (the rest of a
//   serialized value around an unsafe string is still rewritten).
//
// ENCODED BLOCKS (page builders that keep HTML as base64), in plain text:
//   - WPBakery: [vc_raw_html ...]BASE64[/vc_raw_html] and [vc_raw_js]BASE64[/vc_raw_js]. When BASE64 is
//     canonical base64 of canonical rawurlencode() output, the decoded HTML is rewritten as plain text and
//     stored back as base64_encode(rawurlencode(html)); otherwise the block is left alone.
//   - Avada: [fusion_code ...]BASE64[/fusion_code], base64 of the code itself. When the content is not
//     canonical base64, it is the code as it is: plain text like the rest.
//   The decoded text is rewritten as plain text without looking for blocks in it; a match there that is
//   unsafe (see UNSAFE TEXT) leaves the block alone and counts the value as skipped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sitelift {

struct RewriteReport {
    uint64_t values_seen = 0;
    uint64_t values_changed = 0;
    uint64_t values_skipped_unsafe = 0;  // a match sat inside length-prefixed data that could not be parsed
};

// What a site move rewrites: the source's URLs and ABSPATH to the destination's.
struct SiteMove {
    std::vector<std::string> from_urls;  // e.g. source home and siteurl ("https://old.example", "https://old.example/wp")
    std::string to_url;                  // destination home
    std::string from_path;               // source ABSPATH, without trailing slash
    std::string to_path;                 // destination ABSPATH, without trailing slash
};

class Rewriter {
public:
    // Literal search -> replace pairs (the PHP face SiteLift\rewrite). Longer searches win at the same position.
    // Throws Error(usage) for an empty search, or one search given twice with different replacements.
    explicit Rewriter(std::vector<std::pair<std::string, std::string>> pairs);
    // Pairs for a site move in every form a URL takes: plain, JSON-escaped (\/), \u002F-escaped, URL-encoded,
    // protocol-relative, http and https variants mapped to the destination's scheme; plus the ABSPATH.
    //   For each source URL (trailing '/' dropped): "https://H/P" and "http://H/P" -> destination URL,
    //   "//H/P" -> destination without its scheme; a host H with capitals also in lower case (the path
    //   as it is). A source URL below the first one (siteurl "https://old.example/wp" under home
    //   "https://old.example") keeps that path below the destination.
    //   The ABSPATH maps to the destination's. Each of those pairs then in every form: plain; JSON ('/' as
    //   "\/", '\' as "\\"); JSON escaped once more ('/' as "\\/" after addslashes(), as "\\\/" for JSON
    //   encoded as JSON again; '\' as four); "\u002F" and "\u002f"; rawurlencode()d with upper- and
    //   lower-case hex.
    //   Scheme-less host names are not replaced (they would hit e-mail addresses and prose).
    //   Throws Error(usage) when a URL is not http(s) or protocol-relative, or nothing is to be moved.
    static Rewriter for_site_move(const SiteMove& move);
    // The pairs as given, plus the other forms of those that are URLs or paths, the way for_site_move makes
    // them: a pair whose search and replacement are both http(s) or protocol-relative URLs (with a host)
    // also maps the search with the other scheme to the replacement, and the search without its scheme to
    // the replacement without its scheme ("//H/P"); then those pairs and every pair whose search and
    // replacement are absolute paths ("/a/b", not "//") are added in each escaped form. Trailing '/' of
    // URLs is dropped in the generated pairs. A pair as given wins over a generated one with the same search;
    // other pairs (a bare host, any other text) are used as given only. (The PHP face SiteLift\rewrite.)
    static Rewriter with_all_forms(std::vector<std::pair<std::string, std::string>> pairs);
    ~Rewriter();
    Rewriter(Rewriter&&) noexcept;
    Rewriter& operator=(Rewriter&&) noexcept;

    // Rewrites one stored value. Returns true and sets out when the value changed; out is untouched otherwise.
    // Allocates nothing when the value does not change (a WPBakery block is decoded into temporaries).
    // Thread-safe: a Rewriter may be shared by threads (each with its own out and report). value must not
    // point into out.
    bool rewrite(std::string_view value, std::string& out, RewriteReport* report = nullptr) const;

    const std::vector<std::pair<std::string, std::string>>& pairs() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sitelift
