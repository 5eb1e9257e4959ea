// Import: restore an archive into an existing WordPress install without ever leaving it half-done.
//
//   verify + stage   entries stream into <root>/.sitelift/stage/ and tables into sl_stage_* tables, every hash,
//                    size and row checksum checked against manifest.json; any failure drops the staging and
//                    leaves the live site as it was
//   finalize         staged database adapted to the destination (table prefix, URLs and paths, SiteLift's own
//                    options carried over)
//   swap             one atomic RENAME TABLE for the database, then one rename per top-level entry of the root,
//                    journaled in <root>/.sitelift/state.json so an interrupted swap is undone on the next run
//   keep             the previous site stays as sl_bak_* tables and <root>/.sitelift/backup/ until rollback_site()
//                    or cleanup_site()
// The destination keeps its own wp-config.php.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "archive.hpp"
#include "db.hpp"
#include "progress.hpp"

namespace sitelift {

struct SiteTarget {
    std::string root;           // WordPress root of the destination
    DbConfig db;
    std::string table_prefix;   // the destination's $table_prefix
};

struct ImportOptions {
    SiteTarget target;
    std::string input;          // archive file, or
    ByteSource source;          // archive bytes
    uint64_t input_size = 0;    // for progress when reading from source
    std::string url;            // the destination's URL; empty: its current home option
    bool rewrite = true;        // rewrite URLs and paths (guid columns only with rewrite_guids)
    bool rewrite_guids = false;
    unsigned db_threads = 2;
    uint64_t min_free_bytes = 64ull << 20;  // stop staging before the disk gets fuller than this
    ReaderLimits limits;
    ProgressFn progress;
    // Folders of the live site (relative to its root) that survive the swap as they are, replacing whatever
    // the archive holds there: on a push, the destination's own SiteLift plugin.
    std::vector<std::string> keep;
};

struct TableReport {
    uint64_t rows = 0;
    uint64_t values_changed = 0;
    uint64_t values_skipped_unsafe = 0;  // left alone: rewriting could have corrupted them
    std::map<std::string, uint64_t> skipped_by_column;  // where those are, so they can be looked at by hand
};

struct ImportResult {
    uint64_t tables = 0, rows = 0, files = 0, dirs = 0, symlinks = 0, file_bytes = 0;
    uint64_t values_changed = 0, values_skipped_unsafe = 0;
    std::map<std::string, TableReport> table_reports;  // by destination table name
    std::string source_url, destination_url;
    std::vector<std::string> warnings;
    double seconds = 0;
};

ImportResult import_site(const ImportOptions& options);

// Puts the site that the last import replaced back in place. Throws Error(state) when there is none.
void rollback_site(const SiteTarget& target);
// Drops what the last import kept (backup tables and folders), any leftover staging and any push being received.
void cleanup_site(const SiteTarget& target);
// The recorded state of the last import ({} when there is none).
nlohmann::json site_state(const std::string& root);

nlohmann::json import_result_json(const ImportResult& r);

// ---- receiving a push (docs/push-design.md) ----
// The job record (job.json) is returned by each call: job, phase (receiving|done|failed), next_index, bytes,
// site, source_url, destination_url, counts, started_at, updated_at, error, result (after finish).
// options: target, url, rewrite, rewrite_guids, db_threads (connections loading the table chunks of a part),
// min_free_bytes, limits are used.
//
// Starts receiving job: drops any staging and earlier job, records `source` (what the source said of itself).
nlohmann::json receive_begin(const ImportOptions& options, const std::string& job, const nlohmann::json& source);
// Applies the plaintext segment `index`: an index already applied is acknowledged without work, a later one is
// Error(state). Atomic per segment: a crash in the middle replays cleanly.
nlohmann::json receive_apply(const ImportOptions& options, const std::string& job, uint64_t index,
                             std::string_view segment);
// Verifies everything received against the manifest, adapts it and swaps it in, as import_site() does.
// Repeating it after success returns the same record.
nlohmann::json receive_finish(const ImportOptions& options, const std::string& job);
// The job record ({} when nothing is being received).
nlohmann::json receive_state(const std::string& root);
// Drops an unfinished job and its staging; forgets a finished one's record.
void receive_forget(const SiteTarget& target);

}  // namespace sitelift
