// Search-and-replace inside stored WordPress values that never corrupts PHP-serialized data or JSON.
//
// A value is scanned as PHP-serialized data when it parses as such (at any depth, including serialized strings
// that hold serialized data); every s:N:"..." whose content changes gets its new byte length, everything else
// stays byte-for-byte. Otherwise it is plain text. Matches respect host and path boundaries, so a search for
// "//old.example" does not touch "//old.example.au" and "/sites/7/" does not touch "/sites/70/".
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
    explicit Rewriter(std::vector<std::pair<std::string, std::string>> pairs);
    // Pairs for a site move in every form a URL takes: plain, JSON-escaped (\/), \u002F-escaped, URL-encoded,
    // protocol-relative, http and https variants mapped to the destination's scheme; plus the ABSPATH.
    static Rewriter for_site_move(const SiteMove& move);
    ~Rewriter();
    Rewriter(Rewriter&&) noexcept;
    Rewriter& operator=(Rewriter&&) noexcept;

    // Rewrites one stored value. Returns true and sets out when the value changed; out is untouched otherwise.
    bool rewrite(std::string_view value, std::string& out, RewriteReport* report = nullptr) const;

    const std::vector<std::pair<std::string, std::string>>& pairs() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sitelift
