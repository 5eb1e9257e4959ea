// Export: one consistent snapshot of a WordPress site (database and files) streamed into one archive.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "archive.hpp"
#include "db.hpp"
#include "manifest.hpp"
#include "progress.hpp"

namespace sitelift {

struct ExportOptions {
    std::string root;                 // WordPress root (ABSPATH)
    std::string output;               // archive file to create
    ByteSink sink;                    // alternatively: where archive bytes go (output must then be empty)
    Compression compression = Compression::zstd;
    // 0: zstd's fast level -1 (a site is mostly media that zstd barely shrinks: level 1 saves about 0.6% of
    // it for twice the CPU, and made compression the slowest stage of an export), gzip's level 1.
    int level = 0;
    std::vector<std::string> excludes;
    bool default_excludes = true;
    bool all_tables = false;          // every table of the database, not only those with the prefix
    DbConfig db;
    std::string table_prefix = "wp_";
    // Facts the engine cannot find out on its own (the CLI reads them from the site).
    std::string wp_version, php_version, charset, collate;
    bool multisite = false;
    size_t max_statement_bytes = 1 << 20;
    ProgressFn progress;
};

struct ExportResult {
    uint64_t tables = 0, rows = 0, views = 0;
    uint64_t files = 0, dirs = 0, symlinks = 0, file_bytes = 0, sql_bytes = 0;
    uint64_t archive_bytes = 0;
    double seconds = 0;
    std::vector<std::string> warnings;
};

ExportResult export_site(const ExportOptions& options);

// Facts about a site the engine cannot find out on its own (the CLI reads them from the site's files).
struct SiteFacts {
    std::string wp_version, php_version, charset, collate;
    bool multisite = false;
};

// What site.json says of a source: home and siteurl from its options table (Error(database) when the prefix
// names none), ABSPATH, versions, prefix, charset and collation (the options table's when not given), tables.
SiteInfo describe_site(Connection& conn, const std::string& root, const std::string& table_prefix,
                       const std::vector<std::string>& tables, const SiteFacts& facts);

}  // namespace sitelift
