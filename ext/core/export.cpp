#include "export.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <ctime>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.hpp"
#include "manifest.hpp"
#include "path_safety.hpp"
#include "scan.hpp"
#include "sha256.hpp"
#include "sql.hpp"

namespace sitelift {

namespace {

// A table file is held in memory up to this size; larger ones are dumped twice inside the same snapshot (once
// to learn the size the tar header needs, once to stream), so memory never grows with table size.
constexpr size_t kTableBufferBytes = 16u << 20;
constexpr size_t kReadChunk = 1u << 20;

class FdGuard {
public:
    explicit FdGuard(int fd) : fd_(fd) {}
    ~FdGuard() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

class Exporter {
public:
    explicit Exporter(const ExportOptions& o) : opt_(o) {}

    ExportResult run() {
        auto started = std::chrono::steady_clock::now();
        if (opt_.output.empty() == !opt_.sink)
            throw Error(ErrorKind::usage, "export needs exactly one of an output file or a sink");
        if (opt_.table_prefix.empty()) throw Error(ErrorKind::usage, "the table prefix must not be empty");
        root_ = real_site_root(opt_.root);
        refuse_content_linked_outside(root_);
        mtime_ = static_cast<int64_t>(std::time(nullptr));

        Connection conn(opt_.db);
        begin_consistent_snapshot(conn);
        SiteInfo site = describe_site(conn);

        WriterOptions wo;
        wo.compression = opt_.compression;
        wo.level = opt_.level == 0 && opt_.compression == Compression::zstd ? -1 : opt_.level;
        std::unique_ptr<ArchiveWriter> writer = opt_.output.empty()
                                                    ? std::make_unique<ArchiveWriter>(opt_.sink, wo)
                                                    : std::make_unique<ArchiveWriter>(opt_.output, wo);
        ScanOptions so;
        so.excludes = opt_.excludes;
        so.default_excludes = opt_.default_excludes;
        if (!opt_.output.empty()) {
            struct stat st;
            if (::stat(opt_.output.c_str(), &st) == 0) {
                so.skip_dev = st.st_dev;
                so.skip_ino = st.st_ino;
            }
        }
        if (opt_.progress) total_ = estimate_total(conn, so);

        std::string site_json = site_to_json(site).dump(2) + "\n";
        writer->add_file("site.json", site_json, 0644, mtime_);

        for (const auto& table : tables_) dump_one_table(conn, *writer, table);
        for (const auto& view : views_) {
            std::string sql = dump_view(conn, view);
            add_sql_entry(*writer, "database/views/" + view + ".sql", sql, "");
            ++result_.views;
        }
        for (const auto& table : tables_) {
            std::string sql = dump_triggers(conn, table);
            if (!sql.empty()) add_sql_entry(*writer, "database/triggers/" + table + ".sql", sql, "");
        }
        conn.execute("COMMIT");  // the snapshot is no longer needed

        export_files(*writer, so);

        nlohmann::json extra = {{"compression", compression_name(opt_.compression)},
                                {"all_tables", opt_.all_tables},
                                {"excludes", opt_.excludes}};
        manifest_.write_to(*writer, site, extra, mtime_);
        writer->close();

        result_.archive_bytes = writer->compressed_bytes();
        result_.warnings = manifest_.warnings();
        result_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        return result_;
    }

private:
    SiteInfo describe_site(Connection& conn) {
        tables_ = list_tables(conn, opt_.table_prefix, opt_.all_tables);
        views_ = list_views(conn, opt_.table_prefix, opt_.all_tables);
        SiteFacts f;
        f.wp_version = opt_.wp_version;
        f.php_version = opt_.php_version;
        f.charset = opt_.charset;
        f.collate = opt_.collate;
        f.multisite = opt_.multisite;
        return sitelift::describe_site(conn, root_, opt_.table_prefix, tables_, f);
    }

    uint64_t estimate_total(Connection& conn, const ScanOptions& so) {
        uint64_t total = 0;
        for (auto& row : conn.query("SELECT TABLE_NAME, DATA_LENGTH FROM information_schema.TABLES "
                                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'")) {
            if (row.size() == 2 && row[0] && row[1] &&
                std::find(tables_.begin(), tables_.end(), *row[0]) != tables_.end())
                total += std::strtoull(row[1]->c_str(), nullptr, 10);
        }
        scan_tree(root_, so, [&](const ScanEntry& e) { total += e.size; }, [](const std::string&) {});
        return total;
    }

    void report(const char* phase, const std::string& item) {
        if (!opt_.progress) return;
        Progress p;
        p.phase = phase;
        p.item = item;
        p.done = done_;
        p.total = std::max(total_, done_);
        opt_.progress(p);
    }

    void add_sql_entry(ArchiveWriter& w, const std::string& path, const std::string& sql, const std::string& table) {
        EntryInfo info;
        info.path = path;
        info.size = sql.size();
        info.mode = 0644;
        info.mtime = mtime_;
        w.begin_entry(info);
        w.write_data(sql.data(), sql.size());
        w.end_entry();
        EntryRecord r;
        r.path = path;
        r.type = "file";
        r.size = sql.size();
        r.mode = 0644;
        r.mtime = mtime_;
        r.sha256 = Sha256::hex(sql);
        r.table = table;
        manifest_.add(r);
    }

    void dump_one_table(Connection& conn, ArchiveWriter& w, const std::string& table) {
        report("database", table);
        DumpOptions dopt;
        dopt.max_statement_bytes = opt_.max_statement_bytes;
        // Importers accept no foreign keys (a REFERENCES clause reaches into another table); they are left out
        // and named in the manifest's warnings.
        dopt.strip_foreign_keys = true;
        const std::string path = "database/" + table + ".sql";

        // Pass 1: buffer, or only count once the buffer would grow too big.
        std::string buffer;
        buffer.reserve(kTableBufferBytes);  // no doubling past the budget; untouched pages cost no memory
        bool buffered = true;
        TableDumpResult first = dump_table(
            conn, table,
            [&](std::string_view piece) {
                if (!buffered) return;
                if (buffer.size() + piece.size() > kTableBufferBytes) {
                    buffered = false;
                    std::string().swap(buffer);
                    return;
                }
                buffer.append(piece);
            },
            dopt);

        for (const auto& fk : first.foreign_keys)
            manifest_.warn("table '" + table + "': foreign key not carried over: " + fk);
        EntryRecord r;
        r.path = path;
        r.type = "file";
        r.mode = 0644;
        r.mtime = mtime_;
        r.table = table;
        r.rows = first.rows;
        r.checksum = first.checksum;
        r.size = first.bytes;
        EntryInfo info;
        info.path = path;
        info.size = first.bytes;
        info.mode = 0644;
        info.mtime = mtime_;
        w.begin_entry(info);
        if (buffered) {
            w.write_data(buffer.data(), buffer.size());
            r.sha256 = Sha256::hex(buffer);
        } else {
            // Pass 2 inside the same snapshot returns the same rows, so the same bytes.
            Sha256 hash;
            uint64_t written = 0;
            TableDumpResult second = dump_table(
                conn, table,
                [&](std::string_view piece) {
                    written += piece.size();
                    if (written > first.bytes)
                        throw Error(ErrorKind::integrity,
                                    "table '" + table + "' changed while it was exported (is it non-transactional?); "
                                    "run the export again");
                    hash.update(piece);
                    w.write_data(piece.data(), piece.size());
                },
                dopt);
            if (second.bytes != first.bytes || second.checksum != first.checksum)
                throw Error(ErrorKind::integrity, "table '" + table + "' changed while it was exported "
                                                  "(is it non-transactional?); run the export again");
            r.sha256 = hash.hex_digest();
        }
        w.end_entry();
        manifest_.add(r);
        ++result_.tables;
        result_.rows += first.rows;
        result_.sql_bytes += first.bytes;
        done_ += first.bytes;
    }

    void export_files(ArchiveWriter& w, const ScanOptions& so) {
        int root_fd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) throw_errno(ErrorKind::io, "cannot open site root", errno);
        FdGuard root_guard(root_fd);
        std::vector<char> buf(kReadChunk);
        uint64_t since_report = 0;
        scan_tree(
            root_, so,
            [&](const ScanEntry& e) {
                EntryInfo info;
                info.path = "files/" + e.path;
                info.mode = e.mode;
                info.mtime = e.mtime;
                info.mtime_nsec = e.mtime_nsec;
                EntryRecord r;
                r.path = info.path;
                r.mode = e.mode;
                r.mtime = e.mtime;
                if (e.kind == ScanEntry::directory) {
                    info.type = EntryType::directory;
                    r.type = "dir";
                    w.begin_entry(info);
                    w.end_entry();
                    ++result_.dirs;
                } else if (e.kind == ScanEntry::symlink) {
                    info.type = EntryType::symlink;
                    info.link_target = e.target;
                    r.type = "symlink";
                    r.target = e.target;
                    w.begin_entry(info);
                    w.end_entry();
                    ++result_.symlinks;
                } else {
                    if (!export_file(w, root_fd, e, info, r, buf)) return;
                    ++result_.files;
                    result_.file_bytes += r.size;
                    done_ += r.size;
                    since_report += r.size + 4096;
                    if (since_report >= (8u << 20)) {
                        since_report = 0;
                        report("files", e.path);
                    }
                }
                manifest_.add(r);
            },
            [&](const std::string& warning) { manifest_.warn(warning); });
        report("files", "");
    }

    bool export_file(ArchiveWriter& w, int root_fd, const ScanEntry& e, EntryInfo& info, EntryRecord& r,
                     std::vector<char>& buf) {
        int fd = ::openat(root_fd, e.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
            if (errno == ENOENT) return false;  // deleted since the folder was listed
            if (errno == EACCES) {
                manifest_.warn("skipped file '" + e.path + "': permission denied");
                return false;
            }
            throw_errno(ErrorKind::io, "cannot open '" + e.path + "'", errno);
        }
        FdGuard guard(fd);
        struct stat st;
        if (::fstat(fd, &st) != 0) throw_errno(ErrorKind::io, "cannot stat '" + e.path + "'", errno);
        if (!S_ISREG(st.st_mode)) {
            manifest_.warn("skipped '" + e.path + "': it changed type while the export ran");
            return false;
        }
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        // The size the header promises is the size when opened; a file growing later is cut there, one shrinking
        // is padded with zeros, and the manifest's hash always describes what the archive holds.
        info.type = EntryType::file;
        info.size = static_cast<uint64_t>(st.st_size);
        info.mode = st.st_mode & 07777;
        info.mtime = st.st_mtim.tv_sec;
        info.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
        r.type = "file";
        r.size = info.size;
        r.mode = info.mode;
        r.mtime = info.mtime;
        w.begin_entry(info);
        Sha256 hash;
        uint64_t left = info.size;
        bool shrank = false;
        while (left > 0) {
            size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), left));
            ssize_t n = ::read(fd, buf.data(), want);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw_errno(ErrorKind::io, "cannot read '" + e.path + "'", errno);
            }
            if (n == 0) {
                std::fill(buf.begin(), buf.begin() + static_cast<long>(want), '\0');
                n = static_cast<ssize_t>(want);
                shrank = true;
            }
            hash.update(buf.data(), static_cast<size_t>(n));
            w.write_data(buf.data(), static_cast<size_t>(n));
            left -= static_cast<uint64_t>(n);
        }
        w.end_entry();
        if (shrank) manifest_.warn("file '" + e.path + "' shrank while it was exported; the archive holds it padded");
        r.sha256 = hash.hex_digest();
        return true;
    }

    const ExportOptions& opt_;
    std::string root_;
    int64_t mtime_ = 0;
    std::vector<std::string> tables_, views_;
    ManifestWriter manifest_;
    ExportResult result_;
    uint64_t total_ = 0, done_ = 0;
};

}  // namespace

SiteInfo describe_site(Connection& conn, const std::string& root, const std::string& table_prefix,
                       const std::vector<std::string>& tables, const SiteFacts& facts) {
    const std::string options_table = table_prefix + "options";
    if (std::find(tables.begin(), tables.end(), options_table) == tables.end())
        throw Error(ErrorKind::database, "table '" + options_table + "' not found in database '" + conn.database() +
                                             "': is the table prefix right?");
    SiteInfo s;
    for (auto& row : conn.query("SELECT option_name, option_value FROM " + quote_identifier(options_table) +
                                " WHERE option_name IN ('home','siteurl')")) {
        if (row.size() == 2 && row[0] && row[1]) (*row[0] == "home" ? s.home : s.siteurl) = *row[1];
    }
    if (s.siteurl.empty()) s.siteurl = s.home;
    if (s.home.empty()) s.home = s.siteurl;
    s.abspath = root + "/";
    s.wp_version = facts.wp_version;
    s.php_version = facts.php_version;
    s.db_server = conn.server_version();
    s.table_prefix = table_prefix;
    s.charset = facts.charset;
    s.collate = facts.collate;
    if (s.collate.empty()) {
        auto c = conn.scalar("SELECT TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                             "AND TABLE_NAME = " + conn.quote(options_table));
        if (c) s.collate = *c;
    }
    if (s.charset.empty() && !s.collate.empty()) s.charset = s.collate.substr(0, s.collate.find('_'));
    s.multisite = facts.multisite;
    s.tables = tables;
    return s;
}

ExportResult export_site(const ExportOptions& options) { return Exporter(options).run(); }

}  // namespace sitelift
