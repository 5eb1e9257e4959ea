// libFuzzer target: Rewriter::rewrite() on arbitrary bytes (scripts/fuzz).
//
// Besides running clean under ASan/UBSan, two properties must hold for any input:
//   - a value reported as changed really differs from the input;
//   - a site move is idempotent: the destination address holds no source address, so rewriting the result
//     again changes nothing (a second pass finding something means the first one missed a match or made one).
// A second rewriter whose replacements hold their own searches and grow the text exercises edit bookkeeping.
#include "rewrite.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

const sitelift::Rewriter& site_move() {
    static const sitelift::Rewriter r = [] {
        sitelift::SiteMove m;
        m.from_urls = {"https://old.example", "https://old.example/wp"};
        m.to_url = "https://new-site.test/x";
        m.from_path = "/var/www/old";
        m.to_path = "/srv/new";
        return sitelift::Rewriter::for_site_move(m);
    }();
    return r;
}

const sitelift::Rewriter& growing() {
    static const sitelift::Rewriter r(std::vector<std::pair<std::string, std::string>>{
        {"ab", "xyz"}, {"abc", ""}, {"b", "bb"}, {"s:1", "t"}, {"\\/", "/"}});
    return r;
}

[[noreturn]] void fail(const char* what, const std::string& in, const std::string& out) {
    std::fprintf(stderr, "fuzz_rewrite: %s\ninput:  %s\nresult: %s\n", what, in.c_str(), out.c_str());
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string in(reinterpret_cast<const char*>(data), size);
    std::string out, again;
    sitelift::RewriteReport report;
    if (site_move().rewrite(in, out, &report)) {
        if (out == in) fail("reported a change but the result equals the input", in, out);
        if (site_move().rewrite(out, again, &report)) fail("a second pass changed the result again", in, out);
    }
    if (growing().rewrite(in, out, &report) && out == in) fail("reported a change but the result equals the input", in, out);
    return 0;
}
