// libFuzzer target: TableFileParser, the strict parser for the SQL table files of an archive (scripts/fuzz).
//
// Input: one control byte (bits 0-3: size of the pieces fed, 1-16; bit 7: a continuation chunk), then the
// file. A file the grammar refuses must throw sitelift::Error and nothing else. A file it accepts must come
// out as SQL that the same grammar accepts again, as the target table's file, to the very same statements:
// what reaches the database is always something the parser itself validated. String values pass through a
// site-move rewriter, so rewritten values are re-escaped along the way.
#include "error.hpp"
#include "rewrite.hpp"
#include "sql.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

class Rewrite final : public sitelift::ValueTransform {
public:
    bool transform(std::string_view, std::string& value) override { return apply(value); }
    bool transform_binary(std::string_view, std::string& value) override { return apply(value); }

private:
    bool apply(std::string& value) {
        static const sitelift::Rewriter r = [] {
            sitelift::SiteMove m;
            m.from_urls = {"https://old.example"};
            m.to_url = "http://n.test";
            return sitelift::Rewriter::for_site_move(m);
        }();
        if (!r.rewrite(value, out_)) return false;
        value.swap(out_);
        return true;
    }
    std::string out_;
};

std::vector<std::string> parse(const std::string& file, size_t piece, bool continuation, const char* source,
                               sitelift::ValueTransform* transform) {
    std::vector<std::string> out;
    sitelift::TableFileParser p(source, "sl_stage_wp_posts",
                                [&](sitelift::ParsedStatement&& st) { out.push_back(std::move(st.sql)); }, transform,
                                1u << 20);
    if (continuation) p.set_continuation();
    for (size_t i = 0; i < file.size(); i += piece) p.feed(file.data() + i, std::min(piece, file.size() - i));
    p.finish();
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const size_t piece = 1 + (data[0] & 0x0f);
    const bool continuation = (data[0] & 0x80) != 0;
    const std::string file(reinterpret_cast<const char*>(data + 1), size - 1);
    Rewrite rewrite;
    std::vector<std::string> first;
    try {
        first = parse(file, piece, continuation, "wp_posts", &rewrite);
    } catch (const sitelift::Error&) {
        return 0;  // refused: fine
    }
    std::string emitted;
    for (const std::string& sql : first) emitted += sql + ";\n";
    std::vector<std::string> second;
    try {
        second = parse(emitted, 4096, continuation, "sl_stage_wp_posts", nullptr);
    } catch (const sitelift::Error& e) {
        std::fprintf(stderr, "fuzz_table_file: the parser's own output was refused: %s\n%s\n", e.what(), emitted.c_str());
        std::abort();
    }
    if (second != first) {
        std::fprintf(stderr, "fuzz_table_file: the parser's own output parsed to other statements\n%s\n", emitted.c_str());
        std::abort();
    }
    return 0;
}
