#include "import.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "error.hpp"
#include "manifest.hpp"
#include "path_safety.hpp"
#include "rewrite.hpp"
#include "sha256.hpp"
#include "sql.hpp"
#include "workdir.hpp"

namespace sitelift {

using nlohmann::json;

namespace {

constexpr const char* kStagePrefix = "sl_stage_";
constexpr const char* kBackupPrefix = "sl_bak_";
constexpr const char* kDiscardPrefix = "sl_dis_";
// Which table chunks of a push the database already holds, committed with their rows (see docs/push-design.md).
// Work tables carry the destination's table prefix after their own, so sites sharing a database never touch each
// other's staging or backups.
std::string ledger_table(const std::string& dp) { return std::string("sl_stage_") + dp + "_sitelift_ledger"; }
constexpr size_t kChunk = 1u << 20;
// A received part's files up to this size are written on a second thread (FileWriter), at most kQueuedBytes
// of them waiting at a time.
constexpr uint64_t kQueuedFileMax = 1u << 20;
constexpr size_t kQueuedBytes = 2u << 20;
constexpr uint64_t kMaxSiteJson = 1u << 20;
constexpr uint64_t kMaxExtraSql = 64u << 20;

// ---- paths and small file helpers ---------------------------------------------------------------------------

struct WorkPaths {
    explicit WorkPaths(const std::string& root)
        : root(root), work(root + "/.sitelift"), stage(work + "/stage"), stage_files(stage + "/files"),
          stage_sql(stage + "/sql"), backup(work + "/backup"), discard(work + "/discard"), state(work + "/state.json"),
          lock(work + "/lock"), receive(work + "/receive"), job(receive + "/job.json"),
          entries(receive + "/entries.jsonl"), manifest(receive + "/manifest.json"), row(receive + "/row.sql") {}
    std::string root, work, stage, stage_files, stage_sql, backup, discard, state, lock;
    std::string receive, job, entries, manifest;  // a push being received
    std::string row;  // the slices of a table chunk too big for one part, joined
};

// Writes small staged files on a thread of its own while the request's thread decompresses, hashes and checks
// the next entries: in a received part, creating and writing files and everything else took about half the
// time each. One thread, first in first out, so files are written in archive order. Holds at most `limit`
// bytes of queued data. The first failure is rethrown by the next submit() or wait().
class FileWriter {
public:
    using WriteFn = std::function<void(const std::string& rel, const std::string& data, const EntryInfo& e)>;

    FileWriter(WriteFn write, size_t limit) : write_(std::move(write)), limit_(limit), thread_([this] { run(); }) {}
    ~FileWriter() {
        {
            std::lock_guard<std::mutex> lk(mu_);
            stop_ = true;
            queue_.clear();  // unwinding: what was not written is not wanted
        }
        cv_.notify_all();
        thread_.join();
    }
    FileWriter(const FileWriter&) = delete;
    FileWriter& operator=(const FileWriter&) = delete;

    void submit(std::string rel, std::string data, const EntryInfo& e) {
        std::unique_lock<std::mutex> lk(mu_);
        done_cv_.wait(lk, [&] { return error_ || queued_ == 0 || queued_ + data.size() <= limit_; });
        if (error_) std::rethrow_exception(error_);
        queued_ += data.size();
        queue_.push_back(Job{std::move(rel), std::move(data), e});
        lk.unlock();
        cv_.notify_one();
    }

    // Every submitted file written (or the first failure thrown).
    void wait() {
        std::unique_lock<std::mutex> lk(mu_);
        done_cv_.wait(lk, [&] { return error_ || (queue_.empty() && !busy_); });
        if (error_) std::rethrow_exception(error_);
    }

private:
    struct Job {
        std::string rel, data;
        EntryInfo e;
    };

    void run() {
        for (;;) {
            Job job;
            {
                std::unique_lock<std::mutex> lk(mu_);
                cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
                if (stop_) return;
                job = std::move(queue_.front());
                queue_.pop_front();
                busy_ = true;
            }
            std::exception_ptr failed;
            try {
                write_(job.rel, job.data, job.e);
            } catch (...) {
                failed = std::current_exception();
            }
            {
                std::lock_guard<std::mutex> lk(mu_);
                busy_ = false;
                queued_ -= job.data.size();
                if (failed && !error_) {
                    error_ = failed;
                    queue_.clear();
                    queued_ = 0;
                }
            }
            done_cv_.notify_all();
        }
    }

    WriteFn write_;
    size_t limit_;
    std::mutex mu_;
    std::condition_variable cv_, done_cv_;
    std::deque<Job> queue_;
    size_t queued_ = 0;
    bool busy_ = false, stop_ = false;
    std::exception_ptr error_;
    std::thread thread_;  // last: started once everything above exists
};

class WorkLock {
public:
    explicit WorkLock(const WorkPaths& w)
        : lock_((ensure_work_dir(w.work), w.lock), "another SiteLift job is running on this site; wait for it to finish") {}

private:
    FileLock lock_;
};

json read_state(const WorkPaths& w) {
    std::ifstream in(w.state);
    if (!in) return json::object();
    try {
        return json::parse(in);
    } catch (const json::exception&) {
        throw Error(ErrorKind::state, "the state file of the last import is damaged: " + w.state);
    }
}

void write_state(const WorkPaths& w, const json& state) {
    if (state.empty()) {
        if (::unlink(w.state.c_str()) != 0 && errno != ENOENT) throw_errno(ErrorKind::io, "cannot clear the state", errno);
        return;
    }
    write_file_atomic(w.state, state.dump(2) + "\n");
}

uint64_t free_bytes(const std::string& path) {
    struct statvfs vfs;
    if (::statvfs(path.c_str(), &vfs) != 0) throw_errno(ErrorKind::io, "cannot check free disk space", errno);
    return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

// ---- table names -------------------------------------------------------------------------------------------

std::string prefixed_name(const char* prefix, const std::string& table) {
    std::string name = prefix + table;
    if (name.size() <= 64) return name;
    // MariaDB allows 64 characters: keep the start (the table prefix) and make the rest a hash.
    std::string head(prefix);
    head += table.substr(0, 64 - head.size() - 33);
    return head + "_" + Sha256::hex(table).substr(0, 32);
}

std::string like_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

std::vector<std::string> tables_like(Connection& conn, const std::string& prefix) {
    std::vector<std::string> out;
    for (auto& row : conn.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                                "AND TABLE_NAME LIKE " + conn.quote(like_escape(prefix) + "%") +
                                " ORDER BY TABLE_NAME"))
        if (!row.empty() && row[0]) out.push_back(*row[0]);
    return out;
}

bool is_work_table(const std::string& t) {
    return t.rfind(kStagePrefix, 0) == 0 || t.rfind(kBackupPrefix, 0) == 0 || t.rfind(kDiscardPrefix, 0) == 0;
}

void drop_tables(Connection& conn, const std::vector<std::string>& tables) {
    for (size_t i = 0; i < tables.size(); i += 100) {
        std::string sql = "DROP TABLE IF EXISTS ";
        for (size_t k = i; k < std::min(tables.size(), i + 100); ++k) {
            if (k > i) sql += ", ";
            sql += quote_identifier(tables[k]);
        }
        conn.execute(sql);
    }
}

// ---- the swap journal ----------------------------------------------------------------------------------------

// Undoes whatever part of a swap the journal says was done; leaves the live site as it was before it.
void undo_swap(Connection& conn, const WorkPaths& w, json& state) {
    json& files = state["files"];
    for (auto it = files.rbegin(); it != files.rend(); ++it) {
        json& f = *it;
        const std::string name = f.at("name").get<std::string>();
        if (f.value("installed", false)) {
            do_rename(w.root + "/" + name, w.stage_files + "/" + name);
            f["installed"] = false;
            write_state(w, state);
        }
        if (f.value("moved_aside", false)) {
            do_rename(w.backup + "/" + name, w.root + "/" + name);
            f["moved_aside"] = false;
            write_state(w, state);
        }
    }
    if (state.value("db_swapped", false)) {
        std::string sql;
        for (const auto& t : state["tables"]) {
            const std::string fin = t.at("final"), stage = t.at("stage"), bak = t.at("backup");
            if (!stage.empty()) sql += (sql.empty() ? "" : ", ") + quote_identifier(fin) + " TO " + quote_identifier(stage);
            if (t.value("existed", false))
                sql += (sql.empty() ? "" : ", ") + quote_identifier(bak) + " TO " + quote_identifier(fin);
        }
        if (!sql.empty()) conn.execute("RENAME TABLE " + sql);
        state["db_swapped"] = false;
        write_state(w, state);
    }
}

// An import that died during its swap is rolled back before anything else happens.
void recover(Connection& conn, const WorkPaths& w) {
    json state = read_state(w);
    if (state.value("phase", "") != "swapping") return;
    undo_swap(conn, w, state);
    state = json::object();
    write_state(w, state);
}

void drop_staging(Connection& conn, const WorkPaths& w, const std::string& dp) {
    remove_tree(w.stage);  // (a push being received keeps its record in w.receive; see receive_begin)
    drop_tables(conn, tables_like(conn, kStagePrefix + dp));
}

void drop_backup(Connection& conn, const WorkPaths& w, const std::string& dp) {
    remove_tree(w.backup);
    remove_tree(w.discard);
    drop_tables(conn, tables_like(conn, kBackupPrefix + dp));
    drop_tables(conn, tables_like(conn, kDiscardPrefix + dp));
}

// ---- the rewriting seam --------------------------------------------------------------------------------------

// "a:", "O:", "s:" ... or "N;" after optional whitespace, as serialize() output starts.
bool starts_like_serialized(std::string_view v) {
    size_t i = 0;
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r')) ++i;
    if (i + 1 >= v.size()) return false;
    if (v[i] == 'N') return v[i + 1] == ';';
    return std::string_view("aOCsSEidbrR").find(v[i]) != std::string_view::npos && v[i + 1] == ':';
}

class RewriteTransform : public ValueTransform {
public:
    RewriteTransform(const Rewriter& rw, bool guids) : rw_(rw), guids_(guids) {}
    bool transform(std::string_view column, std::string& value) override {
        if (!guids_ && column == "guid") return false;
        const uint64_t skipped = report.values_skipped_unsafe;
        const bool changed = rw_.rewrite(value, out_, &report);
        if (report.values_skipped_unsafe != skipped) ++skipped_by_column[std::string(column)];
        if (!changed) return false;
        value.swap(out_);
        return true;
    }
    // BLOB, BINARY and VARBINARY columns hold text and serialized data as often as files. Text (valid
    // UTF-8) and what starts like serialized data are rewritten as in a text column; other bytes (an image,
    // a PDF, an archive, formats that count lengths and offsets) are left alone, and counted as skipped
    // when a search occurs in them.
    bool transform_binary(std::string_view column, std::string& value) override {
        if (!guids_ && column == "guid") return false;
        if (is_valid_utf8(value) || starts_like_serialized(value)) return transform(column, value);
        ++report.values_seen;
        RewriteReport probe;
        if (rw_.rewrite(value, out_, &probe)) {
            ++report.values_skipped_unsafe;
            ++skipped_by_column[std::string(column)];
        }
        return false;
    }
    // Adds what this transform saw to a table's report.
    void add_to(TableReport& tr) const {
        tr.values_skipped_unsafe += report.values_skipped_unsafe;
        for (const auto& [column, n] : skipped_by_column) tr.skipped_by_column[column] += n;
    }
    RewriteReport report;
    std::map<std::string, uint64_t> skipped_by_column;

private:
    const Rewriter& rw_;
    bool guids_;
    std::string out_;
};

std::string strip_trailing_slashes(std::string s) {
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
}

json table_report_json(const TableReport& t) {
    return {{"rows", t.rows},
            {"values_changed", t.values_changed},
            {"values_skipped_unsafe", t.values_skipped_unsafe},
            {"skipped_by_column", t.skipped_by_column}};
}

TableReport table_report_from_json(const json& j) {
    TableReport t;
    t.rows = j.value("rows", uint64_t(0));
    t.values_changed = j.value("values_changed", uint64_t(0));
    t.values_skipped_unsafe = j.value("values_skipped_unsafe", uint64_t(0));
    if (j.contains("skipped_by_column") && j["skipped_by_column"].is_object())
        t.skipped_by_column = j["skipped_by_column"].get<std::map<std::string, uint64_t>>();
    return t;
}

}  // namespace

json import_result_json(const ImportResult& r) {
    json reports = json::object();
    for (const auto& [name, t] : r.table_reports) reports[name] = table_report_json(t);
    return {{"tables", r.tables},
            {"rows", r.rows},
            {"files", r.files},
            {"dirs", r.dirs},
            {"symlinks", r.symlinks},
            {"file_bytes", r.file_bytes},
            {"values_changed", r.values_changed},
            {"values_skipped_unsafe", r.values_skipped_unsafe},
            {"table_reports", reports},
            {"source_url", r.source_url},
            {"destination_url", r.destination_url},
            {"warnings", r.warnings},
            {"seconds", r.seconds}};
}

namespace {

// ---- the importer ----------------------------------------------------------------------------------------------

class Importer {
public:
    explicit Importer(const ImportOptions& o) : opt_(o) {}

    ImportResult run() {
        auto started = std::chrono::steady_clock::now();
        if (opt_.input.empty() == !opt_.source)
            throw Error(ErrorKind::usage, "import needs exactly one of an input file or a source");
        if (opt_.target.table_prefix.empty()) throw Error(ErrorKind::usage, "the table prefix must not be empty");
        root_ = real_site_root(opt_.target.root);
        WorkPaths w(root_);
        WorkLock lock(w);
        Connection conn(opt_.target.db);
        recover(conn, w);
        drop_staging(conn, w, opt_.target.table_prefix);
        remove_tree(w.receive);  // an import replaces any push being received

        dest_url_ = opt_.url.empty() ? live_option(conn, "home") : opt_.url;
        dest_url_ = strip_trailing_slashes(dest_url_);
        if (dest_url_.empty())
            throw Error(ErrorKind::usage, "the destination has no home URL in its database; give the URL to use");
        if (!opt_.input.empty()) {
            struct stat st;
            if (::stat(opt_.input.c_str(), &st) == 0) input_size_ = static_cast<uint64_t>(st.st_size);
        } else {
            input_size_ = opt_.input_size;
        }

        try {
            stage(conn, w);
            finalize(conn);
            swap(conn, w);
        } catch (...) {
            try {
                drop_staging(conn, w, opt_.target.table_prefix);
            } catch (...) {
            }
            throw;
        }
        remove_tree(w.stage);
        result_.destination_url = dest_url_;
        result_.source_url = site_.home;
        result_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        return result_;
    }

private:
    std::string live_option(Connection& conn, const std::string& name) {
        const std::string table = opt_.target.table_prefix + "options";
        if (!table_exists(conn, table)) return {};
        auto v = conn.scalar("SELECT option_value FROM " + quote_identifier(table) +
                             " WHERE option_name = " + conn.quote(name));
        return v ? *v : std::string();
    }

    void report(const char* phase, const std::string& item, uint64_t done) {
        if (!opt_.progress) return;
        Progress p;
        p.phase = phase;
        p.item = item;
        p.done = done;
        p.total = std::max(input_size_, done);
        opt_.progress(p);
    }

    std::string final_table_name(const std::string& source_table) const {
        const std::string& sp = site_.table_prefix;
        if (source_table.size() >= sp.size() && source_table.compare(0, sp.size(), sp) == 0)
            return opt_.target.table_prefix + source_table.substr(sp.size());
        return source_table;  // --all-tables: a table outside the prefix keeps its name
    }

    static void check_table_name(const std::string& t) {
        if (t.empty() || t.size() > 64 || t.find('/') != std::string::npos || t.find('\\') != std::string::npos ||
            t.find('\0') != std::string::npos || t.find('.') != std::string::npos || !is_valid_utf8(t))
            throw Error(ErrorKind::security, "the archive names an invalid table '" + t + "'");
        if (is_work_table(t) || (t.size() >= 16 && t.compare(t.size() - 16, 16, "_sitelift_ledger") == 0))
            throw Error(ErrorKind::security, "the archive names a reserved table '" + t + "'");
    }

    // Reads the whole current entry into a string, refusing more than limit bytes.
    std::string read_small(ArchiveReader& r, const EntryInfo& e, uint64_t limit) {
        if (e.size > limit) throw Error(ErrorKind::security, "'" + e.path + "' is implausibly large");
        std::string s;
        s.reserve(static_cast<size_t>(e.size));
        char buf[65536];
        while (size_t n = r.read(buf, sizeof buf)) {
            s.append(buf, n);
            if (s.size() > limit) throw Error(ErrorKind::security, "'" + e.path + "' is implausibly large");
        }
        if (s.size() != e.size) throw Error(ErrorKind::archive, "'" + e.path + "' is truncated");
        return s;
    }

    void check_disk(const WorkPaths& w) {
        uint64_t free = free_bytes(w.stage);
        if (free < opt_.min_free_bytes)
            throw Error(ErrorKind::io, "the destination's disk is nearly full (" + std::to_string(free >> 20) +
                                           " MiB free; SiteLift stops while less than " +
                                           std::to_string(opt_.min_free_bytes >> 20) +
                                           " MiB is free, so that the live site keeps room to work); free some "
                                           "space and try again");
    }

    void spool(const EntryRecord& r) {
        std::string line = entry_to_json(r).dump() + "\n";
        if (std::fwrite(line.data(), 1, line.size(), spool_.get()) != line.size())
            throw_errno(ErrorKind::io, "cannot write the import spool", errno);
    }

    void stage(Connection& conn, const WorkPaths& w) {
        make_dir(w.stage, 0700);
        make_dir(w.stage_files, 0755);
        make_dir(w.stage_sql, 0700);
        spool_.reset(std::tmpfile());
        if (!spool_) throw_errno(ErrorKind::io, "cannot create a temporary file", errno);
        manifest_file_.reset(std::tmpfile());
        if (!manifest_file_) throw_errno(ErrorKind::io, "cannot create a temporary file", errno);

        ReaderLimits limits = opt_.limits;
        std::unique_ptr<ArchiveReader> reader = opt_.input.empty()
                                                    ? std::make_unique<ArchiveReader>(opt_.source, limits)
                                                    : std::make_unique<ArchiveReader>(opt_.input, limits);
        ArchiveReader& r = *reader;
        SafeTree tree(w.stage_files);
        ParallelLoader loader(opt_.target.db, std::max(1u, opt_.db_threads));
        std::unique_ptr<Rewriter> rewriter;

        EntryInfo e;
        if (!r.next(e)) throw Error(ErrorKind::archive, "the archive is empty");
        if (e.path != "site.json" || e.type != EntryType::file)
            throw Error(ErrorKind::archive, "not a SiteLift archive: it does not start with site.json");
        const std::string site_json = read_small(r, e, kMaxSiteJson);
        try {
            set_site(site_from_json(json::parse(site_json)));
        } catch (const json::parse_error&) {
            throw Error(ErrorKind::archive, "site.json is not valid JSON");
        }
        refuse_moving_a_network(site_, dest_url_);
        rewriter = make_rewriter();

        std::set<std::string> loaded;
        std::vector<char> buf(kChunk);
        // Free space is checked before staging starts and every 16 MiB staged, so that staging stops while
        // the live site still has min_free_bytes to work with, rather than when writes fail.
        check_disk(w);
        uint64_t since_check = 0;
        bool manifest_seen = false;
        while (r.next(e)) {
            if (manifest_seen) throw Error(ErrorKind::archive, "'" + e.path + "' follows manifest.json");
            if (e.path.size() > 4096) throw Error(ErrorKind::security, "an entry path is implausibly long");
            if (e.path == "manifest.json" && e.type == EntryType::file) {
                copy_manifest(r, e);
                manifest_seen = true;
                continue;
            }
            if (e.type == EntryType::hardlink)
                throw Error(ErrorKind::security, "'" + e.path + "' is a hard link; SiteLift archives hold none");
            if (e.type == EntryType::other)
                throw Error(ErrorKind::security, "'" + e.path + "' is a device, FIFO or socket; refused");
            if (e.path.rfind("database/", 0) == 0) {
                stage_sql_entry(r, e, loader, rewriter.get(), loaded, buf);
            } else if (e.path.rfind("files/", 0) == 0) {
                stage_file_entry(r, e, tree, buf);
            } else {
                throw Error(ErrorKind::security, "unexpected entry '" + e.path + "' in the archive");
            }
            since_check += e.size + 512;
            if (since_check >= (16u << 20)) {
                since_check = 0;
                check_disk(w);
                report("restore", e.path, r.compressed_bytes());
            }
        }
        if (!manifest_seen)
            throw Error(ErrorKind::archive, "the archive is truncated or incomplete: manifest.json is missing");
        for (const auto& t : site_.tables)
            if (!loaded.count(t))
                throw Error(ErrorKind::integrity, "the archive lacks the data of table '" + t + "'");
        report("verify", "database", r.compressed_bytes());
        loader.wait();
        complete_stage(tree, r.compressed_bytes());
    }

    // Everything streamed in: compare with the manifest, then create what had to wait for verification.
    void complete_stage(SafeTree& tree, uint64_t done) {
        verify_manifest();
        report("verify", "files", done);
        keep_live_folders(tree);  // before the folders get their times back
        create_symlinks(tree);
        fix_directories(tree);
        result_.values_skipped_unsafe = rewrite_skipped_;
    }

    void set_site(SiteInfo site) {
        site_ = std::move(site);
        if (site_.table_prefix.empty()) throw Error(ErrorKind::archive, "site.json names no table prefix");
        table_map_.clear();
        std::set<std::string> finals;
        for (const auto& t : site_.tables) {
            check_table_name(t);
            std::string fin = final_table_name(t);
            check_table_name(fin);
            if (!finals.insert(fin).second) throw Error(ErrorKind::archive, "the archive names table '" + t + "' twice");
            table_map_[t] = fin;
        }
    }

    std::unique_ptr<Rewriter> make_rewriter() const {
        if (!opt_.rewrite) return nullptr;
        SiteMove move;
        move.from_urls = {strip_trailing_slashes(site_.home)};
        if (strip_trailing_slashes(site_.siteurl) != move.from_urls[0])
            move.from_urls.push_back(strip_trailing_slashes(site_.siteurl));
        move.to_url = dest_url_;
        move.from_path = strip_trailing_slashes(site_.abspath);
        move.to_path = root_;
        return std::make_unique<Rewriter>(Rewriter::for_site_move(move));
    }

    void copy_manifest(ArchiveReader& r, const EntryInfo& e) {
        char buf[65536];
        uint64_t total = 0;
        while (size_t n = r.read(buf, sizeof buf)) {
            if (std::fwrite(buf, 1, n, manifest_file_.get()) != n)
                throw_errno(ErrorKind::io, "cannot keep the manifest", errno);
            total += n;
        }
        if (total != e.size) throw Error(ErrorKind::archive, "manifest.json is truncated");
    }

    // The start every database/ entry shares: its folders are tolerated, views and triggers kept aside (never
    // applied automatically, see the README). Returns false when that dealt with the entry; else fills rec and
    // rest (the name after "database/").
    bool open_sql_entry(ArchiveReader& r, const EntryInfo& e, EntryRecord& rec, std::string& rest) {
        if (e.type != EntryType::file) {
            if (e.type == EntryType::directory && (e.path == "database" || e.path == "database/views" ||
                                                   e.path == "database/triggers"))
                return false;  // tolerated but never written by SiteLift
            throw Error(ErrorKind::security, "unexpected entry '" + e.path + "'");
        }
        rest = e.path.substr(9);
        rec.path = e.path;
        rec.type = "file";
        rec.size = e.size;
        rec.mode = e.mode & 07777;
        rec.mtime = e.mtime;
        if (rest.rfind("views/", 0) == 0 || rest.rfind("triggers/", 0) == 0) {
            std::string sql = read_small(r, e, kMaxExtraSql);
            rec.sha256 = Sha256::hex(sql);
            spool(rec);
            result_.warnings.push_back("'" + e.path + "' was not applied: import views and triggers by hand");
            return false;
        }
        if (rest.size() < 5 || rest.compare(rest.size() - 4, 4, ".sql") != 0)
            throw Error(ErrorKind::security, "unexpected entry '" + e.path + "'");
        return true;
    }

    // Feeds a table file entry to its parser whole, hashing it on the way; a short entry is an archive error.
    static void parse_entry(ArchiveReader& r, const EntryInfo& e, TableFileParser& parser, Sha256& hash,
                            std::vector<char>& buf) {
        parse_bytes([&r](char* d, size_t cap) { return r.read(d, cap); }, e, parser, hash, buf);
    }

    // The same from any reader: read(buf, cap) gives up to cap bytes, 0 at the end.
    template <typename Read>
    static void parse_bytes(Read&& read, const EntryInfo& e, TableFileParser& parser, Sha256& hash,
                            std::vector<char>& buf) {
        uint64_t total = 0;
        while (size_t n = read(buf.data(), buf.size())) {
            hash.update(buf.data(), n);
            parser.feed(buf.data(), n);
            total += n;
        }
        if (total != e.size) throw Error(ErrorKind::archive, "'" + e.path + "' is truncated");
        parser.finish();
    }

    void stage_sql_entry(ArchiveReader& r, const EntryInfo& e, ParallelLoader& loader, const Rewriter* rewriter,
                         std::set<std::string>& loaded, std::vector<char>& buf) {
        EntryRecord rec;
        std::string rest;
        if (!open_sql_entry(r, e, rec, rest)) return;
        Sha256 hash;
        std::string table = rest.substr(0, rest.size() - 4);
        auto it = table_map_.find(table);
        if (it == table_map_.end())
            throw Error(ErrorKind::security, "'" + e.path + "' holds a table that site.json does not list");
        if (!loaded.insert(table).second) throw Error(ErrorKind::security, "table '" + table + "' appears twice");
        const std::string stage_name = prefixed_name(kStagePrefix, it->second);
        report("restore", table, r.compressed_bytes());

        std::unique_ptr<RewriteTransform> transform;
        if (rewriter) transform = std::make_unique<RewriteTransform>(*rewriter, opt_.rewrite_guids);
        TableFileParser parser(table, stage_name, [&](ParsedStatement&& st) { loader.submit(std::move(st)); },
                               transform.get());
        parse_entry(r, e, parser, hash, buf);
        ++result_.tables;
        record_table_entry(rec, table, it->second, hash, parser, transform.get());
    }

    // Spools the record of a parsed table file (or chunk of one) of `table`, loaded as `final_name`, and adds
    // its rows and rewritten and skipped values to the counts.
    void record_table_entry(EntryRecord& rec, const std::string& table, const std::string& final_name, Sha256& hash,
                            const TableFileParser& parser, const RewriteTransform* transform) {
        rec.sha256 = hash.hex_digest();
        rec.table = table;
        rec.rows = parser.rows();
        rec.checksum = parser.checksum();
        spool(rec);
        result_.rows += parser.rows();
        TableReport& tr = result_.table_reports[final_name];
        tr.rows += parser.rows();
        tr.values_changed += parser.values_changed();
        result_.values_changed += parser.values_changed();
        if (transform) {
            transform->add_to(tr);
            rewrite_skipped_ += transform->report.values_skipped_unsafe;
        }
    }

    void stage_file_entry(ArchiveReader& r, const EntryInfo& e, SafeTree& tree, std::vector<char>& buf) {
        std::string rel = safe_relative_path(std::string_view(e.path).substr(6));
        if (rel == ".sitelift" || rel.rfind(".sitelift/", 0) == 0)
            throw Error(ErrorKind::security, "'" + e.path + "' would write into SiteLift's work folder");
        EntryRecord rec;
        rec.path = e.path;
        rec.mode = e.mode & 07777;
        rec.mtime = e.mtime;
        if (e.type == EntryType::directory) {
            rec.type = "dir";
            tree.make_dir(rel, 0700);
            ++result_.dirs;
        } else if (e.type == EntryType::symlink) {
            rec.type = "symlink";
            rec.target = e.link_target;
            if (symlink_target_escapes(rel, e.link_target))
                throw Error(ErrorKind::security, "symlink '" + e.path + "' points outside the site ('" + e.link_target + "')");
            ++result_.symlinks;  // created after every file, so nothing is ever written through it
        } else {
            rec.type = "file";
            rec.size = e.size;
            Sha256 hash;
            uint64_t total = 0;
            if (rel == "wp-config.php") {
                // The destination keeps its own; the archive's copy is only checked.
                while (size_t n = r.read(buf.data(), buf.size())) {
                    hash.update(buf.data(), n);
                    total += n;
                }
                result_.warnings.push_back("the archive's wp-config.php was ignored; the destination keeps its own");
            } else if (writer_ && e.size <= kQueuedFileMax) {
                // Read and hashed here; created and written on the writer's thread.
                std::string data;
                data.reserve(static_cast<size_t>(e.size));
                while (size_t n = r.read(buf.data(), buf.size())) {
                    hash.update(buf.data(), n);
                    data.append(buf.data(), n);
                }
                total = data.size();
                if (total != e.size) throw Error(ErrorKind::archive, "'" + e.path + "' is truncated");
                writer_->submit(rel, std::move(data), e);
            } else {
                if (writer_) writer_->wait();  // files keep their archive order
                // A replayed part of a push writes its files again.
                fill_staged_file(receiving_ ? tree.open_file(rel, 0600, true) : tree.create_file(rel, 0600), rel,
                                 [&](int fd) {
                                     while (size_t n = r.read(buf.data(), buf.size())) {
                                         hash.update(buf.data(), n);
                                         write_all(fd, buf.data(), n, rel);
                                         total += n;
                                     }
                                     set_mode_and_time(fd, e, rel);
                                 });
            }
            if (total != e.size) throw Error(ErrorKind::archive, "'" + e.path + "' is truncated");
            rec.sha256 = hash.hex_digest();
            ++result_.files;
            result_.file_bytes += total;
        }
        spool(rec);
    }

    // Replaces the staged copy of each folder in opt_.keep with a copy of the live one.
    void keep_live_folders(SafeTree& tree) {
        for (const auto& k : opt_.keep) {
            const std::string rel = safe_relative_path(k);
            const std::string live = root_ + "/" + rel;
            struct stat st;
            if (::lstat(live.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
            remove_tree(tree.root() + "/" + rel);
            copy_folder(tree, live, rel);
        }
    }

    static void copy_folder(SafeTree& tree, const std::string& from, const std::string& rel) {
        struct stat st;
        if (::lstat(from.c_str(), &st) != 0) throw_errno(ErrorKind::io, "cannot read '" + from + "'", errno);
        if (S_ISDIR(st.st_mode)) {
            tree.make_dir(rel, st.st_mode & 07777);
            std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(from.c_str()), ::closedir);
            if (!d) throw_errno(ErrorKind::io, "cannot list '" + from + "'", errno);
            while (struct dirent* de = ::readdir(d.get())) {
                std::string n = de->d_name;
                if (n != "." && n != "..") copy_folder(tree, from + "/" + n, rel + "/" + n);
            }
            tree.set_times(rel, st.st_mtim.tv_sec, static_cast<uint32_t>(st.st_mtim.tv_nsec));
        } else if (S_ISLNK(st.st_mode)) {
            std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
            ssize_t n = ::readlink(from.c_str(), target.data(), target.size());
            if (n < 0) throw_errno(ErrorKind::io, "cannot read '" + from + "'", errno);
            target.resize(static_cast<size_t>(n));
            if (!symlink_target_escapes(rel, target)) {
                tree.make_symlink(rel, target);
                tree.set_times(rel, st.st_mtim.tv_sec, static_cast<uint32_t>(st.st_mtim.tv_nsec));
            }
        } else if (S_ISREG(st.st_mode)) {
            int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            if (in < 0) throw_errno(ErrorKind::io, "cannot read '" + from + "'", errno);
            int out = -1;
            try {
                out = tree.open_file(rel, st.st_mode & 07777, true);
                char buf[65536];
                ssize_t n;
                while ((n = ::read(in, buf, sizeof buf)) > 0) write_all(out, buf, static_cast<size_t>(n), rel);
                if (n < 0) throw_errno(ErrorKind::io, "cannot read '" + from + "'", errno);
                struct timespec ts[2] = {st.st_mtim, st.st_mtim};
                if (::futimens(out, ts) != 0) throw_errno(ErrorKind::io, "cannot set the time of '" + rel + "'", errno);
            } catch (...) {
                ::close(in);
                if (out >= 0) ::close(out);
                throw;
            }
            ::close(in);
            if (::close(out) != 0) throw_errno(ErrorKind::io, "cannot write '" + rel + "'", errno);
        }
    }

    // Runs fill(fd) on a staged file's descriptor and closes it however fill ends; a failed close() (where a
    // delayed write error may surface) is a write error.
    template <class Fill>
    static void fill_staged_file(int fd, const std::string& rel, Fill fill) {
        try {
            fill(fd);
        } catch (...) {
            ::close(fd);
            throw;
        }
        if (::close(fd) != 0) throw_errno(ErrorKind::io, "cannot write '" + rel + "'", errno);
    }

    static void write_all(int fd, const char* data, size_t n, const std::string& rel) {
        size_t off = 0;
        while (off < n) {
            ssize_t k = ::write(fd, data + off, n - off);
            if (k < 0) {
                if (errno == EINTR) continue;
                if (errno == ENOSPC || errno == EDQUOT)
                    throw Error(ErrorKind::io, "the destination's disk is full while staging '" + rel +
                                                   "'; free some space and try again");
                throw_errno(ErrorKind::io, "cannot write '" + rel + "'", errno);
            }
            off += static_cast<size_t>(k);
        }
    }

    static void set_mode_and_time(int fd, const EntryInfo& e, const std::string& rel) {
        if (::fchmod(fd, e.mode & 07777) != 0) throw_errno(ErrorKind::io, "cannot set the mode of '" + rel + "'", errno);
        struct timespec ts[2];
        ts[0].tv_sec = e.mtime;
        ts[0].tv_nsec = e.mtime_nsec;
        ts[1] = ts[0];
        if (::futimens(fd, ts) != 0) throw_errno(ErrorKind::io, "cannot set the time of '" + rel + "'", errno);
    }

    // Compares what streamed in with manifest.json, entry by entry, in archive order.
    void verify_manifest() {
        if (std::fflush(spool_.get()) != 0 || std::fseek(spool_.get(), 0, SEEK_SET) != 0 ||
            std::fflush(manifest_file_.get()) != 0 || std::fseek(manifest_file_.get(), 0, SEEK_SET) != 0)
            throw_errno(ErrorKind::io, "cannot reread the import spool", errno);
        uint64_t index = 0;
        std::string line;
        auto next_actual = [&](EntryRecord& out) -> bool {
            line.clear();
            int c;
            while ((c = std::fgetc(spool_.get())) != EOF && c != '\n') line.push_back(static_cast<char>(c));
            if (line.empty()) return false;
            out = entry_from_json(json::parse(line));
            return true;
        };
        // Stream the manifest from its temporary file.
        struct FileBuf : std::streambuf {
            explicit FileBuf(std::FILE* f) : f(f) {}
            int underflow() override {
                size_t n = std::fread(b, 1, sizeof b, f);
                if (n == 0) return traits_type::eof();
                setg(b, b, b + n);
                return traits_type::to_int_type(b[0]);
            }
            std::FILE* f;
            char b[65536];
        } fb(manifest_file_.get());
        std::istream in(&fb);
        json head = parse_manifest(in, [&](const EntryRecord& expected) {
            EntryRecord actual;
            if (!next_actual(actual))
                throw Error(ErrorKind::integrity, "the archive lacks '" + expected.path + "' that the manifest lists");
            EntryRecord exp = expected;
            if (actual.type != "file") exp.size = actual.size;  // sizes are only meaningful for files
            std::string diff = entry_difference(exp, actual);
            if (!diff.empty()) throw Error(ErrorKind::integrity, "verification failed: " + diff);
            ++index;
        });
        EntryRecord extra;
        if (next_actual(extra))
            throw Error(ErrorKind::integrity, "the archive holds '" + extra.path + "' that the manifest does not list");
        if (head.value("format", "") != "sitelift-archive")
            throw Error(ErrorKind::archive, "manifest.json is not a SiteLift manifest");
        if (!head.contains("site") || site_to_json(site_from_json(head["site"])) != site_to_json(site_))
            throw Error(ErrorKind::integrity, "manifest.json describes another site than site.json");
        if (head.value("entry_count", uint64_t(0)) != index)
            throw Error(ErrorKind::integrity, "manifest.json's entry count does not match its entries");
        if (head.contains("warnings") && head["warnings"].is_array())
            for (const auto& wmsg : head["warnings"])
                if (wmsg.is_string()) result_.warnings.push_back("export: " + wmsg.get<std::string>());
    }

    // Walks the spool again for the entries that had to wait for verification.
    template <typename Fn>
    void for_each_spooled(Fn fn) {
        if (std::fseek(spool_.get(), 0, SEEK_SET) != 0) throw_errno(ErrorKind::io, "cannot reread the import spool", errno);
        std::string line;
        int c;
        while (true) {
            line.clear();
            while ((c = std::fgetc(spool_.get())) != EOF && c != '\n') line.push_back(static_cast<char>(c));
            if (line.empty()) break;
            fn(entry_from_json(json::parse(line)));
        }
    }

    void create_symlinks(SafeTree& tree) {
        std::vector<std::string> links;
        for_each_spooled([&](const EntryRecord& rec) {
            if (rec.type != "symlink") return;
            std::string rel = rec.path.substr(6);
            tree.make_symlink(rel, rec.target);
            tree.set_times(rel, rec.mtime, 0);
        });
        // With every link in place, resolve each one as the kernel would: chains of links inside the tree can
        // lead outside even when every single target looks harmless.
        for_each_spooled([&](const EntryRecord& rec) {
            if (rec.type != "symlink") return;
            if (!tree.resolves_inside(rec.path.substr(6)))
                throw Error(ErrorKind::security, "symlink '" + rec.path + "' resolves outside the site");
        });
    }

    void fix_directories(SafeTree& tree) {
        // Children first: setting a folder's mtime must come after everything inside it was written.
        std::vector<std::pair<std::string, std::pair<uint32_t, int64_t>>> dirs;
        for_each_spooled([&](const EntryRecord& rec) {
            if (rec.type == "dir") dirs.push_back({rec.path.substr(6), {rec.mode, rec.mtime}});
        });
        std::sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
        for (const auto& d : dirs) {
            tree.set_mode(d.first, d.second.first);
            tree.set_times(d.first, d.second.second, 0);
        }
    }


  public:
    // ---- receiving a push (docs/push-design.md) ----

    json receive_begin(const std::string& job, const json& source) {
        root_ = real_site_root(opt_.target.root);
        WorkPaths w(root_);
        WorkLock lock(w);
        Connection conn(opt_.target.db);
        recover(conn, w);
        drop_staging(conn, w, opt_.target.table_prefix);
        remove_tree(w.receive);
        dest_url_ = strip_trailing_slashes(opt_.url.empty() ? live_option(conn, "home") : opt_.url);
        if (dest_url_.empty()) throw Error(ErrorKind::usage, "the destination has no home URL in its database");
        make_dir(w.stage, 0700);
        make_dir(w.stage_files, 0755);
        make_dir(w.receive, 0700);
        const std::string ledger = quote_identifier(ledger_table(opt_.target.table_prefix));
        conn.execute("CREATE TABLE " + ledger +
                     " (tbl VARCHAR(64) NOT NULL, chunk BIGINT UNSIGNED NOT NULL, PRIMARY KEY (tbl, chunk)) "
                     "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
        // A row no table has (table names are never empty): the ledger is filled from two connections at once,
        // which MariaDB can answer with a deadlock while the table is empty (see ChunkLoader).
        conn.execute("INSERT INTO " + ledger + " (tbl, chunk) VALUES ('', 0)");
        write_file_atomic(w.entries, "");
        const int64_t now = static_cast<int64_t>(std::time(nullptr));
        json st = {{"job", job},           {"phase", "receiving"}, {"next_index", 0},     {"spool_bytes", 0},
                   {"manifest_seen", false}, {"site", nullptr},     {"chunks", json::object()},
                   {"file_chunk", nullptr}, {"sql_slice", nullptr}, {"bytes", 0},          {"started_at", now},   {"updated_at", now},
                   {"destination_url", dest_url_}, {"source", source}, {"error", ""}};
        save_progress(st);
        write_state_file(w.job, st);
        return st;
    }

    json receive_apply(const std::string& job, uint64_t index, std::string_view segment) {
        receiving_ = true;
        root_ = real_site_root(opt_.target.root);
        WorkPaths w(root_);
        WorkLock lock(w);
        json st = load_job(w, job);
        if (st.value("phase", "") != "receiving")
            throw Error(ErrorKind::state, "the migration is " + st.value("phase", std::string("over")) + "; no more parts");
        const uint64_t next = st.value("next_index", uint64_t(0));
        if (index < next) return st;  // applied before: acknowledged again, never applied twice
        if (index > next)
            throw Error(ErrorKind::state, "part " + std::to_string(index) + " arrived before part " + std::to_string(next));
        if (st.value("manifest_seen", false)) throw Error(ErrorKind::state, "the migration already received its last part");
        restore_progress(st);

        Connection conn(opt_.target.db);
        set_up_load_session(conn);
        spool_.reset(std::fopen(w.entries.c_str(), "r+b"));
        if (!spool_) throw_errno(ErrorKind::io, "cannot open the receive spool", errno);
        const uint64_t spooled = st.value("spool_bytes", uint64_t(0));
        if (::ftruncate(::fileno(spool_.get()), static_cast<off_t>(spooled)) != 0 ||
            std::fseek(spool_.get(), 0, SEEK_END) != 0)
            throw_errno(ErrorKind::io, "cannot rewind the receive spool", errno);

        size_t pos = 0;
        ByteSource source = [&](void* buf, size_t cap) -> size_t {
            size_t n = std::min(cap, segment.size() - pos);
            std::memcpy(buf, segment.data() + pos, n);
            pos += n;
            return n;
        };
        ArchiveReader r(source, opt_.limits);
        SafeTree tree(w.stage_files);
        writer_ = std::make_unique<FileWriter>(
            [&tree](const std::string& rel, const std::string& data, const EntryInfo& e) {
                // a replayed part writes its files again
                fill_staged_file(tree.open_file(rel, 0600, true), rel, [&](int fd) {
                    write_all(fd, data.data(), data.size(), rel);
                    set_mode_and_time(fd, e, rel);
                });
            },
            kQueuedBytes);
        struct StopWriter {  // before the tree it writes into goes, however this ends
            std::unique_ptr<FileWriter>& w;
            ~StopWriter() { w.reset(); }
        } stop_writer{writer_};
        std::unique_ptr<Rewriter> rewriter;
        if (!site_.table_prefix.empty()) rewriter = make_rewriter();
        // Parsing and rewriting stay on this thread; the chunks' INSERTs run on the loader's connections, opened
        // at the first table chunk (most parts of a big site hold only files).
        std::unique_ptr<ChunkLoader> loader;
        std::vector<char> buf(kChunk);
        EntryInfo e;
        bool first = true;
        while (r.next(e)) {
            if (e.path.size() > 4096) throw Error(ErrorKind::security, "an entry path is implausibly long");
            if (st.value("manifest_seen", false)) throw Error(ErrorKind::archive, "'" + e.path + "' follows manifest.json");
            if (index == 0 && first) {
                if (e.path != "site.json" || e.type != EntryType::file)
                    throw Error(ErrorKind::archive, "the push does not start with site.json");
                try {
                    set_site(site_from_json(json::parse(read_small(r, e, kMaxSiteJson))));
                } catch (const json::parse_error&) {
                    throw Error(ErrorKind::archive, "site.json is not valid JSON");
                }
                refuse_moving_a_network(site_, dest_url_);
                st["site"] = site_to_json(site_);
                st["source_url"] = site_.home;
                rewriter = make_rewriter();
                first = false;
                continue;
            }
            first = false;
            if (site_.table_prefix.empty()) throw Error(ErrorKind::archive, "the push does not start with site.json");
            if (e.type == EntryType::hardlink)
                throw Error(ErrorKind::security, "'" + e.path + "' is a hard link; SiteLift archives hold none");
            if (e.type == EntryType::other)
                throw Error(ErrorKind::security, "'" + e.path + "' is a device, FIFO or socket; refused");
            const bool in_chunked_file = !st["file_chunk"].is_null();
            if (in_chunked_file && e.path.rfind("chunks/", 0) != 0)
                throw Error(ErrorKind::archive, "'" + e.path + "' interrupts the slices of a big file");
            const bool sql_slice = e.path.rfind(kSqlSlicePrefix, 0) == 0;
            if (!st["sql_slice"].is_null() && !sql_slice)
                throw Error(ErrorKind::archive, "'" + e.path + "' interrupts the slices of a big table row");
            // A manifest larger than a part comes as slices "manifest-slices/<offset>", in order, each in a part
            // of its own, and ends with "manifest.json" (the whole manifest when it fits one part).
            const bool manifest_slice = e.path.rfind(ManifestWriter::kSlicePrefix, 0) == 0;
            const uint64_t manifest_have = st.value("manifest_received", uint64_t(0));
            if (manifest_have > 0 && !manifest_slice && e.path != "manifest.json")
                throw Error(ErrorKind::archive, "'" + e.path + "' follows a slice of manifest.json");
            if ((manifest_slice || e.path == "manifest.json") && e.type == EntryType::file) {
                if (manifest_slice) {
                    if (e.path != ManifestWriter::slice_path(manifest_have))
                        throw Error(ErrorKind::archive, "'" + e.path + "' is not the next slice of manifest.json");
                }
                append_entry_at(r, e, w.manifest, manifest_have, "the manifest", buf);
                if (manifest_slice) st["manifest_received"] = manifest_have + e.size;
                else st["manifest_seen"] = true;
            } else if (e.path.rfind("database/", 0) == 0) {
                // 2 MiB a worker (two statements of the dump's 1 MiB): this runs in a php-fpm worker, and deeper
                // queues only hold more of the part in memory, not load it faster.
                if (!loader)
                    loader = std::make_unique<ChunkLoader>(opt_.target.db, std::max(1u, opt_.db_threads), 2u << 20);
                receive_sql_entry(r, e, conn, *loader, rewriter.get(), st, buf);
            } else if (sql_slice) {
                if (!loader)
                    loader = std::make_unique<ChunkLoader>(opt_.target.db, std::max(1u, opt_.db_threads), 2u << 20);
                receive_sql_slice(r, e, w, conn, *loader, rewriter.get(), st, buf);
            } else if (e.path.rfind("files/", 0) == 0) {
                stage_file_entry(r, e, tree, buf);
            } else if (e.path.rfind("chunks/", 0) == 0) {
                writer_->wait();  // files keep their archive order
                receive_file_slice(r, e, tree, st, buf);
            } else {
                throw Error(ErrorKind::security, "unexpected entry '" + e.path + "' in the push");
            }
        }
        writer_->wait();  // every file written, and every chunk committed, before the part is acknowledged
        if (loader) loader->wait();
        check_disk(w);
        if (std::fflush(spool_.get()) != 0 || ::fsync(::fileno(spool_.get())) != 0)
            throw_errno(ErrorKind::io, "cannot write the receive spool", errno);
        long spool_end = std::ftell(spool_.get());
        if (spool_end < 0) throw_errno(ErrorKind::io, "cannot write the receive spool", errno);
        st["spool_bytes"] = static_cast<uint64_t>(spool_end);
        st["next_index"] = index + 1;
        st["bytes"] = st.value("bytes", uint64_t(0)) + segment.size();
        st["updated_at"] = static_cast<int64_t>(std::time(nullptr));
        save_progress(st);
        write_state_file(w.job, st);
        return st;
    }

    json receive_finish(const std::string& job) {
        auto started = std::chrono::steady_clock::now();
        receiving_ = true;
        root_ = real_site_root(opt_.target.root);
        WorkPaths w(root_);
        WorkLock lock(w);
        json st = load_job(w, job);
        if (st.value("phase", "") == "done") return st;  // a repeated finalize answers with the same report
        if (st.value("phase", "") != "receiving")
            throw Error(ErrorKind::state, "the migration is " + st.value("phase", std::string("over")));
        if (!st.value("manifest_seen", false))
            throw Error(ErrorKind::state, "the push is incomplete: part " + std::to_string(st.value("next_index", 0)) +
                                              " has not arrived");
        restore_progress(st);
        if (!st["file_chunk"].is_null()) throw Error(ErrorKind::integrity, "a big file arrived only in part");
        if (!st["sql_slice"].is_null()) throw Error(ErrorKind::integrity, "a big table row arrived only in part");
        for (const auto& t : site_.tables)
            if (!st["chunks"].contains(t))
                throw Error(ErrorKind::integrity, "the push lacks the data of table '" + t + "'");
        Connection conn(opt_.target.db);
        recover(conn, w);
        spool_.reset(std::fopen(w.entries.c_str(), "rb"));
        manifest_file_.reset(std::fopen(w.manifest.c_str(), "rb"));
        if (!spool_ || !manifest_file_) throw_errno(ErrorKind::io, "cannot reopen what was received", errno);
        // The spool may hold bytes of a part that was never acknowledged (a crash after writing it).
        if (::ftruncate(::fileno(spool_.get()), static_cast<off_t>(st.value("spool_bytes", uint64_t(0)))) != 0 &&
            errno != EINVAL && errno != EBADF)
            throw_errno(ErrorKind::io, "cannot trim the receive spool", errno);
        SafeTree tree(w.stage_files);
        try {
            complete_stage(tree, st.value("bytes", uint64_t(0)));
            finalize(conn);
            swap(conn, w);
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::integrity || e.kind() == ErrorKind::security || e.kind() == ErrorKind::archive) {
                st["phase"] = "failed";
                st["error"] = e.what();
                st["updated_at"] = static_cast<int64_t>(std::time(nullptr));
                write_state_file(w.job, st);
                try {
                    drop_staging(conn, w, opt_.target.table_prefix);
                } catch (...) {
                }
            }
            throw;
        }
        remove_tree(w.stage);
        ::unlink(w.row.c_str());
        drop_tables(conn, {ledger_table(opt_.target.table_prefix)});
        result_.destination_url = dest_url_;
        result_.source_url = site_.home;
        result_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        st["phase"] = "done";
        st["result"] = import_result_json(result_);
        st["updated_at"] = static_cast<int64_t>(std::time(nullptr));
        write_state_file(w.job, st);
        return st;
    }

  private:
    static void write_state_file(const std::string& path, const json& j) { write_file_atomic(path, j.dump(1) + "\n"); }

    static json load_job(const WorkPaths& w, const std::string& job) {
        std::ifstream in(w.job);
        if (!in) throw Error(ErrorKind::state, "no migration is being received");
        json st;
        try {
            st = json::parse(in);
        } catch (const json::exception&) {
            throw Error(ErrorKind::state, "the record of the migration being received is damaged");
        }
        if (!job.empty() && st.value("job", "") != job)
            throw Error(ErrorKind::state, "another migration is being received");
        return st;
    }

    void save_progress(json& st) const {
        st["counts"] = {{"tables", result_.tables},       {"rows", result_.rows},
                        {"files", result_.files},         {"dirs", result_.dirs},
                        {"symlinks", result_.symlinks},   {"file_bytes", result_.file_bytes},
                        {"values_changed", result_.values_changed}, {"values_skipped_unsafe", rewrite_skipped_}};
        json reports = json::object();
        for (const auto& [name, r] : result_.table_reports)
            reports[name] = table_report_json(r);
        st["table_reports"] = reports;
        st["warnings"] = result_.warnings;
    }

    void restore_progress(const json& st) {
        dest_url_ = st.value("destination_url", "");
        if (st.contains("site") && st["site"].is_object()) set_site(site_from_json(st["site"]));
        const json& c = st.at("counts");
        result_.tables = c.value("tables", uint64_t(0));
        result_.rows = c.value("rows", uint64_t(0));
        result_.files = c.value("files", uint64_t(0));
        result_.dirs = c.value("dirs", uint64_t(0));
        result_.symlinks = c.value("symlinks", uint64_t(0));
        result_.file_bytes = c.value("file_bytes", uint64_t(0));
        result_.values_changed = c.value("values_changed", uint64_t(0));
        rewrite_skipped_ = c.value("values_skipped_unsafe", uint64_t(0));
        for (const auto& [name, r] : st.at("table_reports").items())
            result_.table_reports[name] = table_report_from_json(r);
        result_.warnings = st.value("warnings", std::vector<std::string>{});
    }

    static bool parse_decimal(std::string_view s, uint64_t& out) {
        if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) return false;
        out = 0;
        for (char c : s) {
            if (c < '0' || c > '9') return false;
            out = out * 10 + static_cast<uint64_t>(c - '0');
        }
        return true;
    }

    // "<prefix><size>/<offset>/<name>": a slice holding bytes [offset, offset + e.size) of something of `size`
    // bytes. False when the entry is not a non-empty file of that form lying inside the whole; name unchecked.
    static bool parse_slice(const EntryInfo& e, size_t prefix, uint64_t& size, uint64_t& offset, std::string_view& name) {
        std::string_view p(e.path);
        p.remove_prefix(prefix);
        const size_t a = p.find('/');
        const size_t b = a == std::string_view::npos ? a : p.find('/', a + 1);
        if (e.type != EntryType::file || b == std::string_view::npos || !parse_decimal(p.substr(0, a), size) ||
            !parse_decimal(p.substr(a + 1, b - a - 1), offset) || e.size == 0 || offset + e.size > size)
            return false;
        name = p.substr(b + 1);
        return true;
    }

    // Appends the entry's bytes to the file `path` at byte `at` and syncs them. The file is made anew at 0, else
    // cut back to `at` first: what a part that was not acknowledged appended is cut off (the part comes again).
    // `what` names the file in errors.
    static void append_entry_at(ArchiveReader& r, const EntryInfo& e, const std::string& path, uint64_t at,
                                const std::string& what, std::vector<char>& buf) {
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), at == 0 ? "wb" : "r+b"), std::fclose);
        if (!f) throw_errno(ErrorKind::io, "cannot keep " + what, errno);
        if (at > 0) {
            struct stat sb;
            if (::fstat(::fileno(f.get()), &sb) != 0) throw_errno(ErrorKind::io, "cannot keep " + what, errno);
            if (static_cast<uint64_t>(sb.st_size) < at)
                throw Error(ErrorKind::io, "what was received of " + what + " is gone (" + std::to_string(sb.st_size) +
                                               " of " + std::to_string(at) + " bytes)");
            if (::ftruncate(::fileno(f.get()), static_cast<off_t>(at)) != 0 || ::fseeko(f.get(), 0, SEEK_END) != 0)
                throw_errno(ErrorKind::io, "cannot keep " + what, errno);
        }
        uint64_t total = 0;
        while (size_t n = r.read(buf.data(), buf.size())) {
            if (std::fwrite(buf.data(), 1, n, f.get()) != n) throw_errno(ErrorKind::io, "cannot keep " + what, errno);
            total += n;
        }
        if (total != e.size) throw Error(ErrorKind::archive, "'" + e.path + "' is truncated");
        if (std::fflush(f.get()) != 0 || ::fsync(::fileno(f.get())) != 0)
            throw_errno(ErrorKind::io, "cannot keep " + what, errno);
    }

    void receive_sql_entry(ArchiveReader& r, const EntryInfo& e, Connection& conn, ChunkLoader& loader,
                           const Rewriter* rewriter, json& st, std::vector<char>& buf) {
        EntryRecord rec;
        std::string rest;
        if (!open_sql_entry(r, e, rec, rest)) return;
        receive_table_chunk([&r](char* d, size_t cap) { return r.read(d, cap); }, e, rest, rec, conn, loader, rewriter,
                            st, buf);
    }

    // The table and chunk number a chunk's name ("<table>.sql", "<table>.<n>.sql") stands for, which must be
    // a table of site.json and that table's next chunk. `path` names the entry in errors.
    std::pair<std::string, uint64_t> next_chunk_named(const std::string& chunk_name, const std::string& path,
                                                      const json& st) const {
        if (chunk_name.size() < 5 || chunk_name.compare(chunk_name.size() - 4, 4, ".sql") != 0 ||
            chunk_name.find('/') != std::string::npos)
            throw Error(ErrorKind::security, "unexpected entry '" + path + "' in the push");
        std::string name = chunk_name.substr(0, chunk_name.size() - 4);
        uint64_t chunk = 0;
        std::string table = name;
        if (size_t dot = name.find('.'); dot != std::string::npos) {  // table names hold no dots
            table = name.substr(0, dot);
            if (!parse_decimal(std::string_view(name).substr(dot + 1), chunk) || chunk == 0)
                throw Error(ErrorKind::security, "unexpected entry '" + path + "' in the push");
        }
        if (table_map_.find(table) == table_map_.end())
            throw Error(ErrorKind::security, "'" + path + "' holds a table that site.json does not list");
        const json& chunks = st.at("chunks");
        const uint64_t expected = chunks.contains(table) ? chunks[table].get<uint64_t>() : 0;
        if (chunk != expected)
            throw Error(ErrorKind::archive, "'" + path + "' arrived out of order (chunk " + std::to_string(expected) +
                                                " of that table was expected)");
        return {table, chunk};
    }

    // Loads one table chunk (the entry `e`, "database/<rest>", whose bytes `read` gives) into its staging
    // table, with its ledger row, unless the ledger says an earlier try of this part committed it already.
    template <typename Read>
    void receive_table_chunk(Read&& read, const EntryInfo& e, const std::string& rest, EntryRecord& rec,
                             Connection& conn, ChunkLoader& loader, const Rewriter* rewriter, json& st,
                             std::vector<char>& buf) {
        const std::pair<std::string, uint64_t> named = next_chunk_named(rest, e.path, st);
        const std::string& table = named.first;
        const uint64_t chunk = named.second;
        auto it = table_map_.find(table);
        json& chunks = st["chunks"];
        const std::string stage_name = prefixed_name(kStagePrefix, it->second);
        const std::string ledger = quote_identifier(ledger_table(opt_.target.table_prefix));
        const std::string ledger_key = conn.quote(table) + "," + std::to_string(chunk);
        auto held = conn.scalar("SELECT COUNT(*) FROM " + ledger + " WHERE (tbl, chunk) = (" + ledger_key + ")");
        const bool already = held && *held != "0";  // skipped, but still parsed for its hash and counts

        std::unique_ptr<RewriteTransform> transform;
        if (rewriter) transform = std::make_unique<RewriteTransform>(*rewriter, opt_.rewrite_guids);
        TableFileParser parser(
            table, stage_name,
            [&](ParsedStatement&& ps) {
                if (already) return;
                if (ps.kind == StatementKind::create_table) {
                    // Here, on this thread's connection, so no worker inserts before the table exists. A replay
                    // re-creates the table (its CREATE ran, its chunk 0 did not commit), and must forget the
                    // ledger rows of its other chunks too: on two connections chunk 1 may have committed while
                    // chunk 0 had not, and keeping its row would lose its rows. Every such chunk belongs to this
                    // part: a later part arrives only after this one was acknowledged, i.e. after chunk 0 committed.
                    conn.execute("DELETE FROM " + ledger + " WHERE tbl = " + conn.quote(table));
                    drop_table_if_exists(conn, stage_name);
                    conn.execute(ps.sql);
                    return;
                }
                loader.submit(std::move(ps));
            },
            transform.get());
        if (chunk > 0) parser.set_continuation();
        if (!already) loader.begin_chunk(stage_name, chunk == 0);  // chunk 0 creates its table
        Sha256 hash;
        parse_bytes(read, e, parser, hash, buf);
        // A chunk that fails before this point is never ended: the loader rolls it back when receive_apply
        // throws.
        if (!already) loader.end_chunk("INSERT INTO " + ledger + " (tbl, chunk) VALUES (" + ledger_key + ")");
        if (chunk == 0) ++result_.tables;
        record_table_entry(rec, table, it->second, hash, parser, transform.get());
        chunks[table] = chunk + 1;
    }

    // "sql-slices/<size>/<offset>/<chunk name>": one slice of a table chunk too big for one part (one big row),
    // appended to row.sql. Slices come in order; one at offset 0 starts the chunk over (the source lost its copy
    // of the text, or the row changed before its first slice was acknowledged). The last slice loads the joined
    // chunk like any other, as "database/<chunk name>".
    void receive_sql_slice(ArchiveReader& r, const EntryInfo& e, const WorkPaths& w, Connection& conn,
                           ChunkLoader& loader, const Rewriter* rewriter, json& st, std::vector<char>& buf) {
        uint64_t size = 0, offset = 0;
        std::string_view rest;
        if (!parse_slice(e, kSqlSlicePrefix.size(), size, offset, rest) || size > kMaxSlicedChunk)
            throw Error(ErrorKind::security, "unexpected entry '" + e.path + "' in the push");
        const std::string name(rest);
        next_chunk_named(name, e.path, st);  // a table of site.json, and its next chunk
        json& ss = st["sql_slice"];
        if (offset == 0) {
            ss = {{"name", name}, {"size", size}, {"next", 0}};
        } else if (ss.is_null() || ss.value("name", "") != name || ss.value("size", uint64_t(0)) != size ||
                   ss.value("next", uint64_t(0)) != offset) {
            throw Error(ErrorKind::archive, "a slice of 'database/" + name + "' arrived out of order");
        }
        append_entry_at(r, e, w.row, offset, "the slices of a big row", buf);
        if (offset + e.size < size) {
            ss["next"] = offset + e.size;
            return;
        }
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(w.row.c_str(), "rb"), std::fclose);
        if (!f) throw_errno(ErrorKind::io, "cannot read the slices of a big row", errno);
        EntryInfo whole = e;
        whole.path = "database/" + name;
        whole.size = size;
        EntryRecord rec;
        rec.path = whole.path;
        rec.type = "file";
        rec.size = size;
        rec.mode = e.mode & 07777;
        rec.mtime = e.mtime;
        receive_table_chunk([&f](char* d, size_t cap) { return std::fread(d, 1, cap, f.get()); }, whole, name, rec,
                            conn, loader, rewriter, st, buf);
        ss = nullptr;
    }

    // "chunks/<size>/<offset>/<path>": one slice of a file too big for one part, written at its offset. The
    // last slice completes the file, which is then hashed as a whole and recorded as "files/<path>".
    void receive_file_slice(ArchiveReader& r, const EntryInfo& e, SafeTree& tree, json& st, std::vector<char>& buf) {
        uint64_t size = 0, offset = 0;
        std::string_view rest;
        if (!parse_slice(e, std::strlen("chunks/"), size, offset, rest))
            throw Error(ErrorKind::security, "unexpected entry '" + e.path + "' in the push");
        const std::string rel = safe_relative_path(rest);
        if (rel == ".sitelift" || rel.rfind(".sitelift/", 0) == 0 || rel == "wp-config.php")
            throw Error(ErrorKind::security, "'" + e.path + "' may not be written");
        json& fc = st["file_chunk"];
        if (offset == 0) {
            if (!fc.is_null()) throw Error(ErrorKind::archive, "a big file starts before the previous one ended");
            fc = {{"path", rel}, {"size", size}, {"next", 0}};
        } else if (fc.is_null() || fc.value("path", "") != rel || fc.value("size", uint64_t(0)) != size ||
                   fc.value("next", uint64_t(0)) != offset) {
            throw Error(ErrorKind::archive, "a slice of '" + display_path(rel) + "' arrived out of order");
        }
        std::string digest;
        fill_staged_file(tree.open_file(rel, 0600, offset == 0), rel, [&](int fd) {
            if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) throw_errno(ErrorKind::io, "cannot seek in '" + rel + "'", errno);
            uint64_t total = 0;
            while (size_t n = r.read(buf.data(), buf.size())) {
                write_all(fd, buf.data(), n, rel);
                total += n;
            }
            if (total != e.size) throw Error(ErrorKind::archive, "'" + e.path + "' is truncated");
            if (offset + total == size) {
                if (::ftruncate(fd, static_cast<off_t>(size)) != 0) throw_errno(ErrorKind::io, "cannot write '" + rel + "'", errno);
                Sha256 hash;
                uint64_t at = 0;
                while (at < size) {
                    ssize_t n = ::pread(fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), size - at)),
                                        static_cast<off_t>(at));
                    if (n < 0 && errno == EINTR) continue;
                    if (n <= 0) throw_errno(ErrorKind::io, "cannot reread '" + rel + "'", n < 0 ? errno : EIO);
                    hash.update(buf.data(), static_cast<size_t>(n));
                    at += static_cast<uint64_t>(n);
                }
                digest = hash.hex_digest();
                set_mode_and_time(fd, e, rel);
            }
        });
        if (digest.empty()) {
            fc["next"] = offset + e.size;
            return;
        }
        EntryRecord rec;
        rec.path = "files/" + rel;
        rec.type = "file";
        rec.size = size;
        rec.mode = e.mode & 07777;
        rec.mtime = e.mtime;
        rec.sha256 = digest;
        spool(rec);
        ++result_.files;
        result_.file_bytes += size;
        fc = nullptr;
    }

  private:
    // ---- finalize: adapt the staged database to the destination ----
    void finalize(Connection& conn) {
        report("finalize", "", input_size_);
        const std::string sp = site_.table_prefix, dp = opt_.target.table_prefix;
        std::vector<std::string> options_tables, usermeta_tables;
        for (const auto& t : site_.tables) {
            const std::string& fin = table_map_[t];
            std::string stage = prefixed_name(kStagePrefix, fin);
            if (fin.size() >= 7 && fin.compare(fin.size() - 7, 7, "options") == 0 && fin.rfind(dp, 0) == 0)
                options_tables.push_back(stage);
            if (fin == dp + "usermeta") usermeta_tables.push_back(stage);
        }
        const std::string main_options = prefixed_name(kStagePrefix, dp + "options");
        if (sp != dp) {
            // WordPress keys roles and per-user capabilities by table prefix.
            for (const auto& t : options_tables)
                conn.execute("UPDATE " + quote_identifier(t) + " SET option_name = CONCAT(" + conn.quote(dp) +
                             ", SUBSTRING(option_name, " + std::to_string(sp.size() + 1) + ")) WHERE option_name LIKE " +
                             conn.quote(like_escape(sp) + "%user\\_roles"));
            for (const auto& t : usermeta_tables)
                conn.execute("UPDATE " + quote_identifier(t) + " SET meta_key = CONCAT(" + conn.quote(dp) +
                             ", SUBSTRING(meta_key, " + std::to_string(sp.size() + 1) + ")) WHERE meta_key LIKE " +
                             conn.quote(like_escape(sp) + "%"));
        }
        if (std::find(options_tables.begin(), options_tables.end(), main_options) != options_tables.end()) {
            std::string src_home = strip_trailing_slashes(site_.home);
            std::string src_siteurl = strip_trailing_slashes(site_.siteurl);
            std::string siteurl = dest_url_;
            if (src_siteurl.size() > src_home.size() && src_siteurl.compare(0, src_home.size(), src_home) == 0)
                siteurl = dest_url_ + src_siteurl.substr(src_home.size());  // WordPress in a subfolder
            conn.execute("UPDATE " + quote_identifier(main_options) + " SET option_value = " + conn.quote(dest_url_) +
                         " WHERE option_name = 'home'");
            conn.execute("UPDATE " + quote_identifier(main_options) + " SET option_value = " + conn.quote(siteurl) +
                         " WHERE option_name = 'siteurl'");
            // SiteLift's own state on the destination survives the swap.
            const std::string live = dp + "options";
            auto found = tables_like(conn, live);
            if (std::find(found.begin(), found.end(), live) != found.end()) {
                conn.execute("DELETE FROM " + quote_identifier(main_options) + " WHERE option_name LIKE 'sitelift\\_%'");
                conn.execute("INSERT INTO " + quote_identifier(main_options) +
                             " (option_name, option_value, autoload) SELECT option_name, option_value, autoload FROM " +
                             quote_identifier(live) + " WHERE option_name LIKE 'sitelift\\_%'");
            }
        } else {
            result_.warnings.push_back("the archive has no " + sp + "options table; home and siteurl were not set");
        }
    }

    // ---- swap ----
    void swap(Connection& conn, const WorkPaths& w) {
        report("swap", "", input_size_);
        drop_backup(conn, w, opt_.target.table_prefix);  // one generation of backup is kept
        const std::string dp = opt_.target.table_prefix;
        json state = json::object();
        state["phase"] = "swapping";
        state["source_url"] = site_.home;
        state["destination_url"] = dest_url_;
        state["table_prefix"] = dp;
        state["db_swapped"] = false;
        json tables = json::array();
        std::set<std::string> live_tables;
        for (const auto& t : tables_like(conn, dp)) live_tables.insert(t);
        std::set<std::string> finals;
        for (const auto& t : site_.tables) {
            const std::string& fin = table_map_[t];
            finals.insert(fin);
            json item = {{"final", fin},
                         {"stage", prefixed_name(kStagePrefix, fin)},
                         {"backup", prefixed_name(kBackupPrefix, fin)},
                         {"existed", live_tables.count(fin) > 0 || table_exists(conn, fin)}};
            tables.push_back(item);
        }
        // The destination's other tables with its prefix belonged to the site being replaced: keep them aside too.
        for (const auto& t : live_tables) {
            if (finals.count(t) || is_work_table(t) || is_view(conn, t)) continue;
            tables.push_back({{"final", t}, {"stage", ""}, {"backup", prefixed_name(kBackupPrefix, t)}, {"existed", true}});
        }
        state["tables"] = tables;
        json files = json::array();
        for (const auto& name : top_level(w.stage_files)) {
            files.push_back({{"name", name}, {"existed", exists_nofollow(w.root + "/" + name)},
                             {"moved_aside", false}, {"installed", false}});
        }
        state["files"] = files;
        write_state(w, state);

        try {
            std::string sql;
            for (const auto& t : state["tables"]) {
                const std::string fin = t["final"], stage = t["stage"], bak = t["backup"];
                if (t["existed"].get<bool>()) sql += (sql.empty() ? "" : ", ") + quote_identifier(fin) + " TO " + quote_identifier(bak);
                if (!stage.empty()) sql += (sql.empty() ? "" : ", ") + quote_identifier(stage) + " TO " + quote_identifier(fin);
            }
            if (!sql.empty()) conn.execute("RENAME TABLE " + sql);  // one atomic statement
            state["db_swapped"] = true;
            write_state(w, state);

            make_dir(w.backup, 0700);
            for (auto& f : state["files"]) {
                const std::string name = f["name"];
                if (f["existed"].get<bool>()) {
                    do_rename(w.root + "/" + name, w.backup + "/" + name);
                    f["moved_aside"] = true;
                    write_state(w, state);
                }
                do_rename(w.stage_files + "/" + name, w.root + "/" + name);
                f["installed"] = true;
                write_state(w, state);
            }
        } catch (...) {
            try {
                undo_swap(conn, w, state);
                write_state(w, json::object());
            } catch (...) {
                // The journal stays as it is; the next run finishes undoing.
            }
            throw;
        }
        state["phase"] = "swapped";
        state["finished"] = static_cast<int64_t>(std::time(nullptr));
        write_state(w, state);
    }

    static bool table_exists(Connection& conn, const std::string& t) {
        auto v = conn.scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = " +
                             conn.quote(t));
        return v && *v != "0";
    }

    static bool is_view(Connection& conn, const std::string& t) {
        auto v = conn.scalar("SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = " +
                             conn.quote(t));
        return v && *v != "0";
    }

    static std::vector<std::string> top_level(const std::string& dir) {
        std::vector<std::string> names;
        std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
        if (!d) throw_errno(ErrorKind::io, "cannot list the staging folder", errno);
        while (struct dirent* de = ::readdir(d.get())) {
            std::string n = de->d_name;
            if (n != "." && n != "..") names.push_back(n);
        }
        std::sort(names.begin(), names.end());
        return names;
    }

    struct FileCloser {
        void operator()(std::FILE* f) const {
            if (f) std::fclose(f);
        }
    };

    const ImportOptions& opt_;
    std::string root_, dest_url_;
    uint64_t input_size_ = 0;
    SiteInfo site_;
    std::map<std::string, std::string> table_map_;  // source table -> destination table
    std::unique_ptr<std::FILE, FileCloser> spool_, manifest_file_;
    uint64_t rewrite_skipped_ = 0;
    bool receiving_ = false;
    std::unique_ptr<FileWriter> writer_;  // while a received part is applied
    ImportResult result_;
};

}  // namespace

ImportResult import_site(const ImportOptions& options) { return Importer(options).run(); }

json receive_begin(const ImportOptions& options, const std::string& job, const json& source) {
    return Importer(options).receive_begin(job, source);
}

json receive_apply(const ImportOptions& options, const std::string& job, uint64_t index, std::string_view segment) {
    return Importer(options).receive_apply(job, index, segment);
}

json receive_finish(const ImportOptions& options, const std::string& job) {
    return Importer(options).receive_finish(job);
}

json receive_state(const std::string& root) {
    WorkPaths w(real_site_root(root));
    std::ifstream in(w.job);
    if (!in) return json::object();
    try {
        return json::parse(in);
    } catch (const json::exception&) {
        return {{"phase", "failed"}, {"error", "the record of the migration being received is damaged"}};
    }
}

void receive_forget(const SiteTarget& target) {
    WorkPaths w(real_site_root(target.root));
    WorkLock lock(w);
    Connection conn(target.db);
    recover(conn, w);
    json st = receive_state(target.root);
    if (st.value("phase", "") == "receiving" || st.value("phase", "") == "failed") {
        drop_staging(conn, w, target.table_prefix);
        drop_tables(conn, {ledger_table(target.table_prefix)});
    }
    remove_tree(w.receive);
}

void rollback_site(const SiteTarget& target) {
    WorkPaths w(real_site_root(target.root));
    WorkLock lock(w);
    Connection conn(target.db);
    recover(conn, w);
    json state = read_state(w);
    if (state.value("phase", "") != "swapped")
        throw Error(ErrorKind::state, "there is no previous site to roll back to");
    // Database: the imported tables go aside, the kept ones come back, in one statement.
    std::string sql;
    std::vector<std::string> discard;
    for (const auto& t : state["tables"]) {
        const std::string fin = t["final"], stage = t["stage"], bak = t["backup"];
        if (!stage.empty()) {
            std::string dis = prefixed_name(kDiscardPrefix, fin);
            sql += (sql.empty() ? "" : ", ") + quote_identifier(fin) + " TO " + quote_identifier(dis);
            discard.push_back(dis);
        }
        if (t["existed"].get<bool>()) sql += (sql.empty() ? "" : ", ") + quote_identifier(bak) + " TO " + quote_identifier(fin);
    }
    drop_tables(conn, discard);
    if (!sql.empty()) conn.execute("RENAME TABLE " + sql);
    // Files.
    make_dir(w.discard, 0700);
    for (const auto& f : state["files"]) {
        const std::string name = f["name"];
        if (f.value("installed", false) && exists_nofollow(w.root + "/" + name))
            do_rename(w.root + "/" + name, w.discard + "/" + name);
        if (f.value("moved_aside", false)) do_rename(w.backup + "/" + name, w.root + "/" + name);
    }
    write_state(w, json::object());
    drop_tables(conn, discard);
    drop_backup(conn, w, target.table_prefix);
}

void cleanup_site(const SiteTarget& target) {
    WorkPaths w(real_site_root(target.root));
    WorkLock lock(w);
    Connection conn(target.db);
    recover(conn, w);
    drop_staging(conn, w, target.table_prefix);
    drop_backup(conn, w, target.table_prefix);
    remove_tree(w.receive);  // and any push being received
    json state = read_state(w);
    if (!state.empty()) write_state(w, json::object());
}

json site_state(const std::string& root) {
    WorkPaths w(real_site_root(root));
    return read_state(w);
}

}  // namespace sitelift
