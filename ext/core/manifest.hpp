// The archive's description of itself.
//
// An archive is a POSIX tar holding, in this order:
//   site.json              what the source is (written first, so an importer knows it before any data)
//   database/<table>.sql   one file per table, see sql.hpp
//   database/views/<v>.sql, database/triggers/<table>.sql   when the site has views or triggers
//   files/<path>           the WordPress root
//   manifest.json          site.json's content again, plus size, mode, mtime and SHA-256 of every entry and
//                          row count and row checksum of every table (written last: they are computed while
//                          the entries stream)
// Entries appear in manifest.json in archive order. Paths that are not valid UTF-8 are stored as "path_b64".
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "path_safety.hpp"  // is_valid_utf8

namespace sitelift {

class ArchiveWriter;

struct SiteInfo {
    std::string home, siteurl, abspath;
    std::string wp_version, php_version, db_server;
    std::string table_prefix, charset, collate;
    bool multisite = false;
    std::vector<std::string> tables;  // every table the archive holds, in order
};

nlohmann::json site_to_json(const SiteInfo& s);
SiteInfo site_from_json(const nlohmann::json& j);  // throws Error(archive) on a missing or mistyped field

// A multisite network keeps its sites' addresses in tables of its own (wp_blogs, wp_site) and in wp-config.php,
// which rewriting URLs in the data does not reach: SiteLift restores a network at its own address only. Throws
// Error(usage), saying so, when `site` is a network and `to_url` names another host or path than its home (a
// change of scheme alone is fine).
void refuse_moving_a_network(const SiteInfo& site, const std::string& to_url);

// One entry of the archive other than site.json and manifest.json.
struct EntryRecord {
    std::string path;     // archive path ("files/wp-content/x.jpg", "database/wp_posts.sql")
    std::string type;     // "file", "dir", "symlink"
    uint64_t size = 0;
    uint32_t mode = 0;
    int64_t mtime = 0;
    std::string sha256;   // files only
    std::string target;   // symlinks only
    // tables only
    std::string table;
    uint64_t rows = 0;
    std::string checksum;
};

nlohmann::json entry_to_json(const EntryRecord& r);
EntryRecord entry_from_json(const nlohmann::json& j);  // throws Error(archive)
// Empty when the two agree, else a sentence naming the first field that differs.
std::string entry_difference(const EntryRecord& expected, const EntryRecord& actual);

std::string base64_encode(const std::string& s);
bool base64_decode(const std::string& s, std::string& out);

// The push stream's name for a table chunk: "database/<table>.sql" for chunk 0, "database/<table>.<n>.sql" after.
inline std::string table_chunk_name(const std::string& table, uint64_t chunk) {
    return table + (chunk ? "." + std::to_string(chunk) : std::string()) + ".sql";
}

// A table chunk too big for one part (a single row larger than the destination's request limit) travels as
// slices "sql-slices/<size>/<offset>/<chunk name>", one a part, in order; the destination joins them and loads
// the chunk, recorded in the manifest as "database/<chunk name>", when the last one arrives.
constexpr std::string_view kSqlSlicePrefix = "sql-slices/";
constexpr uint64_t kMaxSlicedChunk = 320u << 20;  // the parser takes statements of up to 256 MiB
inline std::string sql_slice_path(uint64_t size, uint64_t offset, const std::string& chunk_name) {
    return std::string(kSqlSlicePrefix) + std::to_string(size) + "/" + std::to_string(offset) + "/" + chunk_name;
}

// Records entries as they are written, spooled to an unlinked temporary file so memory stays flat, and
// writes manifest.json at the end.
class ManifestWriter {
public:
    ManifestWriter();
    // A spool in a file of its own, which a push resumes in another process: opened (created when missing) and
    // cut back to `bytes`, which hold `count` entries.
    ManifestWriter(const std::string& path, uint64_t bytes, uint64_t count, std::vector<std::string> warnings);
    ~ManifestWriter();
    ManifestWriter(const ManifestWriter&) = delete;
    ManifestWriter& operator=(const ManifestWriter&) = delete;
    uint64_t spool_bytes() const { return spool_bytes_; }
    uint64_t count() const { return count_; }
    void sync();  // flushes the spool to disk
    void add(const EntryRecord& r);
    void warn(const std::string& message);
    const std::vector<std::string>& warnings() const { return warnings_; }
    void write_to(ArchiveWriter& out, const SiteInfo& site, const nlohmann::json& extra, int64_t mtime);

    // manifest.json in pieces, for a push whose manifest is larger than one part: its text is
    // head(...) + the spool + kTail, and write_range() writes bytes [from, from + len) of that text as the
    // file `path`. The head holds the time it was made, so a push makes it once and keeps it.
    std::string head(const SiteInfo& site, const nlohmann::json& extra) const;
    static constexpr std::string_view kTail = "\n]}\n";
    static uint64_t text_size(size_t head_size, uint64_t spool_bytes) { return head_size + spool_bytes + kTail.size(); }
    uint64_t text_size(const std::string& head) const { return text_size(head.size(), spool_bytes_); }
    // The archive path of the slice that starts at byte `offset` of manifest.json's text; the last slice is
    // "manifest.json" itself.
    static constexpr std::string_view kSlicePrefix = "manifest-slices/";
    static std::string slice_path(uint64_t offset) { return std::string(kSlicePrefix) + std::to_string(offset); }
    void write_range(ArchiveWriter& out, const std::string& path, const std::string& head, uint64_t from, uint64_t len,
                     int64_t mtime);

private:
    std::FILE* spool_;
    uint64_t spool_bytes_ = 0;
    uint64_t count_ = 0;
    std::vector<std::string> warnings_;
};

// Reads manifest.json as a stream: the "entries" array is handed over one record at a time and never held
// whole, everything else comes back as a JSON object.
nlohmann::json parse_manifest(std::istream& in, const std::function<void(const EntryRecord&)>& on_entry);

}  // namespace sitelift
