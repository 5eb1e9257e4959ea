#include "push.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.hpp"
#include "crypto.hpp"
#include "error.hpp"
#include "export.hpp"
#include "manifest.hpp"
#include "path_safety.hpp"
#include "scan.hpp"
#include "sha256.hpp"
#include "sql.hpp"
#include "version.hpp"
#include "workdir.hpp"

namespace sitelift {

using nlohmann::json;

namespace {

constexpr uint64_t kMinPart = 256u << 10;           // never cut parts smaller than this
constexpr uint64_t kMaxPart = 64u << 20;            // nor bigger, whatever the destination accepts
constexpr uint64_t kRequestOverhead = 64u << 10;    // headers and slack below the destination's body limit
constexpr uint64_t kMaxTableChunk = 4u << 20;       // uncompressed SQL per table chunk, at most
constexpr size_t kReadChunk = 1u << 20;
constexpr size_t kLogLines = 200;

struct PushPaths {
    explicit PushPaths(const std::string& root)
        : work(root + "/.sitelift"), dir(work + "/push"), state(dir + "/state.json"), files(dir + "/files.jsonl"),
          manifest(dir + "/manifest.jsonl"), segment(dir + "/segment.bin"), segment_next(dir + "/segment.next"),
          log(dir + "/log.txt"), lock(dir + "/lock"), row(dir + "/row.sql") {}
    std::string work, dir, state, files, manifest, segment, segment_next, log, lock, row;

    // Removes what a job keeps beside its state: the file list, the manifest spool, the segments and the copy
    // of a big row.
    void remove_work_files() const {
        for (const std::string* f : {&files, &manifest, &segment, &segment_next, &row}) ::unlink(f->c_str());
    }
};

int64_t now_s() { return static_cast<int64_t>(std::time(nullptr)); }

std::string read_whole(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return {};
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A sealed segment grew past the largest part the destination takes (thrown out of the build, which is then
// made again smaller).
struct SegmentTooBig {};

// A sealed segment on its way to disk: written as the sealer makes it, never held in memory whole.
class SegmentFile {
public:
    SegmentFile(const std::string& path, uint64_t limit) : path_(path), limit_(limit) {
        fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd_ < 0) throw_errno(ErrorKind::io, "cannot write the next part", errno);
    }
    ~SegmentFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    SegmentFile(const SegmentFile&) = delete;
    SegmentFile& operator=(const SegmentFile&) = delete;

    void write(const char* d, size_t n) {
        size_ += n;
        if (size_ > limit_) throw SegmentTooBig{};
        while (n > 0) {
            ssize_t w = ::write(fd_, d, n);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) throw_errno(ErrorKind::io, "cannot write the next part", errno);
            d += w;
            n -= static_cast<size_t>(w);
        }
    }
    // Not synced: the pending part's record keeps the segment's SHA-256, and a segment that does not match it
    // after a crash is made again (send_pending). Syncing forced the whole site through the disk once more
    // during the transfer (some 30 ms for every 8 MB), on the way of the destination's own writes.
    void finish() {
        int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0) throw_errno(ErrorKind::io, "cannot write the next part", errno);
    }
    uint64_t size() const { return size_; }

private:
    std::string path_;
    uint64_t limit_;
    uint64_t size_ = 0;
    int fd_ = -1;
};

// The SHA-256 (hex) of the first `size` bytes of an open file; false when it is shorter.
bool hash_file(int fd, uint64_t size, std::string& hex) {
    Sha256 h;
    std::vector<char> buf(1u << 20);
    uint64_t at = 0;
    while (at < size) {
        ssize_t n = ::pread(fd, buf.data(), static_cast<size_t>(std::min<uint64_t>(buf.size(), size - at)),
                            static_cast<off_t>(at));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        h.update(buf.data(), static_cast<size_t>(n));
        at += static_cast<uint64_t>(n);
    }
    hex = h.hex_digest();
    return true;
}

json load_state(const PushPaths& p) {
    std::string text = read_whole(p.state);
    if (text.empty()) return json::object();
    try {
        return json::parse(text);
    } catch (const json::exception&) {
        throw Error(ErrorKind::state, "the push state is damaged; cancel the push and start again");
    }
}

// What callers see: the state without the keys.
json public_state(const json& st) {
    if (st.empty()) return json::object();
    json out = st;
    out.erase("keys");
    out.erase("cursor");
    out.erase("pending");
    out.erase("site");
    out.erase("views");
    out.erase("options");
    return out;
}

// Test hook: SITELIFT_TEST_KILL_AT=<event>:<n> kills the process at the n-th event (database, files, part,
// finalize, row-slice: a segment holding a slice of a big row other than its last, listing: a step of the file
// listing), the way a killed CLI or a php-fpm worker hitting its time limit dies: no clean-up at all.
void maybe_die(const char* event) {
    static int counts[8] = {};
    static const char* names[] = {"database", "files", "part", "finalize", "row-slice", "listing"};
    const char* spec = std::getenv("SITELIFT_TEST_KILL_AT");
    if (!spec) return;
    std::string s(spec);
    size_t colon = s.find(':');
    if (colon == std::string::npos || s.compare(0, colon, event) != 0) return;
    for (int i = 0; i < 6; ++i) {
        if (std::strcmp(names[i], event) == 0 && ++counts[i] == std::atoi(s.c_str() + colon + 1)) {
            ::raise(SIGKILL);
        }
    }
}

// ---- HTTP ----------------------------------------------------------------------------------------------------

struct HttpResponse {
    long status = 0;
    std::string body;
    std::string error;  // transport failure, when status is 0
};

std::once_flag curl_once;

size_t collect(char* data, size_t size, size_t n, void* user) {
    auto* out = static_cast<std::string*>(user);
    if (out->size() + size * n > (4u << 20)) return 0;  // answers are small JSON
    out->append(data, size * n);
    return size * n;
}

// A request body read from a file as it is sent (a sealed part: several MB never held in memory).
struct FileBody {
    int fd = -1;
    uint64_t size = 0;
    uint64_t at = 0;

    static size_t read(char* out, size_t size, size_t n, void* user) {
        auto* b = static_cast<FileBody*>(user);
        const size_t want = static_cast<size_t>(std::min<uint64_t>(size * n, b->size - b->at));
        if (want == 0) return 0;
        for (;;) {
            ssize_t got = ::pread(b->fd, out, want, static_cast<off_t>(b->at));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) return CURL_READFUNC_ABORT;  // shorter than promised: fail the request, not corrupt it
            b->at += static_cast<uint64_t>(got);
            return static_cast<size_t>(got);
        }
    }
    static int seek(void* user, curl_off_t offset, int origin) {
        auto* b = static_cast<FileBody*>(user);
        if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > b->size) return CURL_SEEKFUNC_CANTSEEK;
        b->at = static_cast<uint64_t>(offset);
        return CURL_SEEKFUNC_OK;
    }
};

class Http {
public:
    Http() {
        std::call_once(curl_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
        h_ = curl_easy_init();
        if (!h_) throw Error(ErrorKind::io, "cannot start an HTTP client");
    }
    ~Http() { curl_easy_cleanup(h_); }
    Http(const Http&) = delete;
    Http& operator=(const Http&) = delete;

    // The body is `body`, or `file` when given.
    HttpResponse request(const std::string& method, const std::string& url, const std::vector<std::string>& headers,
                         const std::string& body, FileBody* file = nullptr) {
        HttpResponse r;
        curl_easy_reset(h_);
        curl_easy_setopt(h_, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h_, CURLOPT_CUSTOMREQUEST, method.c_str());
        curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h_, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h_, CURLOPT_FOLLOWLOCATION, 0L);  // a signed request is never sent elsewhere
        curl_easy_setopt(h_, CURLOPT_CONNECTTIMEOUT, 20L);
        curl_easy_setopt(h_, CURLOPT_TIMEOUT, 300L);
        curl_easy_setopt(h_, CURLOPT_LOW_SPEED_LIMIT, 512L);
        curl_easy_setopt(h_, CURLOPT_LOW_SPEED_TIME, 60L);
        curl_easy_setopt(h_, CURLOPT_USERAGENT, "SiteLift/" SITELIFT_VERSION);
        if (method != "GET" && file) {
            file->at = 0;
            curl_easy_setopt(h_, CURLOPT_POST, 1L);  // the method stays CUSTOMREQUEST's; the body is read
            curl_easy_setopt(h_, CURLOPT_READFUNCTION, &FileBody::read);
            curl_easy_setopt(h_, CURLOPT_READDATA, file);
            curl_easy_setopt(h_, CURLOPT_SEEKFUNCTION, &FileBody::seek);
            curl_easy_setopt(h_, CURLOPT_SEEKDATA, file);
            curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(file->size));
        } else if (method != "GET") {
            curl_easy_setopt(h_, CURLOPT_POSTFIELDS, body.data());
            curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        }
        struct curl_slist* list = nullptr;
        for (const auto& hd : headers) list = curl_slist_append(list, hd.c_str());
        list = curl_slist_append(list, "Expect:");
        curl_easy_setopt(h_, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(h_, CURLOPT_WRITEDATA, &r.body);
        char err[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, err);
        CURLcode rc = curl_easy_perform(h_);
        curl_slist_free_all(list);
        if (rc != CURLE_OK) {
            r.error = err[0] ? err : curl_easy_strerror(rc);
            return r;
        }
        curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &r.status);
        return r;
    }

private:
    CURL* h_;
};

// A transient failure: the same request may succeed later.
struct Transient : Error {
    explicit Transient(const std::string& m) : Error(ErrorKind::io, m) {}
};

// ---- the job ---------------------------------------------------------------------------------------------------

class PushJob {
public:
    explicit PushJob(const PushOptions& o) : opt_(o) {
        root_ = real_site_root(opt_.root);
        paths_ = std::make_unique<PushPaths>(root_);
    }
    ~PushJob() {
        // A segment being made ahead uses the connection and the spool: let it finish before they go.
        if (ahead_.valid()) ahead_.wait();
    }
    PushJob(const PushJob&) = delete;
    PushJob& operator=(const PushJob&) = delete;

    // Loads or creates the job, handshakes. Holds the push lock for the object's life.
    void open() {
        ensure_work_dir(paths_->work);
        make_dir(paths_->dir, 0700);
        lock_ = std::make_unique<FileLock>(paths_->lock, "a push from this site is already running (another tab, "
                                                         "admin or process); wait for it or cancel it");
        token_ = parse_token(opt_.token);
        if (opt_.site_name.empty()) throw Error(ErrorKind::usage, "give the destination's site name");
        st_ = load_state(*paths_);
        const std::string phase = st_.value("phase", "");
        const bool finished = phase == "done" || phase == "failed" || phase == "cancelled";
        if (!st_.empty() && (opt_.restart || (finished && st_.value("token_id", "") != token_.token_id) ||
                             phase == "cancelled")) {
            reset_files();
            st_ = json::object();
        } else if (!st_.empty() && st_.value("token_id", "") != token_.token_id) {
            throw Error(ErrorKind::state, "a push with another machine token is in progress from this site; cancel it "
                                          "first (or restart)");
        }
        if (token_expired(token_, now_s()))
            fail_permanent("the machine token has expired; generate a new one on the destination");
        if (st_.empty()) start_job();
        if (st_.value("phase", "") == "failed" && st_.value("permanent", false) && !opt_.restart) {
            // A permanent failure stays until the admin restarts; retrying the same thing would fail again,
            // except when it was the token (a new one is a restart) or a temporary condition now fixed.
            st_["phase"] = st_.value("failed_phase", "database");
            st_["error"] = "";
            st_["permanent"] = false;
        }
        Keys keys = derive_keys(token_.secret, token_.token_id);
        mac_ = keys.mac;
        enc_ = keys.enc;
    }

    bool finished() const {
        const std::string phase = st_.value("phase", "");
        return phase == "done" || phase == "failed" || phase == "cancelled";
    }

    // One bounded step. Throws Transient for retryable failures (state saved), Error for permanent ones.
    void step(double seconds) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
        if (finished()) return;
        if (st_.value("phase", "") == "listing") {
            list_files(deadline);
            if (st_.value("phase", "") == "listing") return;
        }
        if (!handshaken_) handshake();
        do {
            const std::string phase = st_.value("phase", "");
            if (phase == "finalize") {
                finalize();
                return;
            }
            if (finished()) return;
            if (!st_["pending"].is_null()) {
                start_ahead();
                send_pending();
                finish_ahead();
            } else {
                make_segment();
            }
        } while (std::chrono::steady_clock::now() < deadline);
    }

    void fail(const std::string& message, bool permanent) {
        if (st_.empty()) return;
        if (st_.value("phase", "") != "failed") st_["failed_phase"] = st_.value("phase", "");
        st_["phase"] = permanent ? "failed" : st_.value("phase", "");
        st_["error"] = message;
        st_["permanent"] = permanent;
        log("error: " + message);
        save();
    }

    void note_retry(const std::string& message) {
        st_["retry"] = message;
        log("retrying: " + message);
        save();
    }

    // After a transient failure: the next step handshakes again, which also learns what the destination holds.
    void reconnect() { handshaken_ = false; }

    const json& state() const { return st_; }
    void set_progress(ProgressFn fn) { progress_ = std::move(fn); }

private:
    [[noreturn]] void fail_permanent(const std::string& message) {
        throw Error(ErrorKind::security, message);
    }

    void reset_files() {
        ::unlink(paths_->state.c_str());
        paths_->remove_work_files();
    }

    void log(const std::string& line) {
        char ts[32];
        std::time_t t = std::time(nullptr);
        std::strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", std::gmtime(&t));
        std::string full = std::string(ts) + " " + line;
        if (FILE* f = std::fopen(paths_->log.c_str(), "ab")) {
            std::fprintf(f, "%s\n", full.c_str());
            std::fclose(f);
        }
        json& lines = st_["log"];
        if (!lines.is_array()) lines = json::array();
        lines.push_back(full);
        while (lines.size() > kLogLines) lines.erase(lines.begin());
    }

    void save() {
        st_["updated_at"] = now_s();
        write_file_atomic(paths_->state, st_.dump(1) + "\n");
    }

    void report() {
        if (!progress_) return;
        Progress p;
        p.phase = st_.value("phase", "");
        p.item = st_.value("item", "");
        p.done = st_.value("done_bytes", uint64_t(0));
        p.total = std::max(p.done, st_.value("total_bytes", uint64_t(0)));
        progress_(p);
    }

    Connection& db() {
        if (!conn_) {
            conn_ = std::make_unique<Connection>(opt_.db);
            begin_consistent_snapshot(*conn_);
        }
        return *conn_;
    }

    // ---- starting ----

    void start_job() {
        ::unlink(paths_->log.c_str());
        Connection& conn = db();
        std::vector<std::string> tables = list_tables(conn, opt_.table_prefix, opt_.all_tables);
        std::vector<std::string> views = list_views(conn, opt_.table_prefix, opt_.all_tables);
        SiteFacts facts;
        facts.wp_version = opt_.wp_version;
        facts.php_version = opt_.php_version;
        facts.charset = opt_.charset;
        facts.collate = opt_.collate;
        facts.multisite = opt_.multisite;
        const SiteInfo s = describe_site(conn, root_, opt_.table_prefix, tables, facts);
        refuse_moving_a_network(s, token_.url);
        refuse_content_linked_outside(root_);

        uint64_t total = 0;
        json row_bytes = json::object();
        for (auto& row : conn.query("SELECT TABLE_NAME, DATA_LENGTH, AVG_ROW_LENGTH FROM information_schema.TABLES "
                                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'")) {
            if (row.size() != 3 || !row[0] || std::find(tables.begin(), tables.end(), *row[0]) == tables.end()) continue;
            total += row[1] ? std::strtoull(row[1]->c_str(), nullptr, 10) : 0;
            row_bytes[*row[0]] = row[2] ? std::strtoull(row[2]->c_str(), nullptr, 10) : 0;
        }

        // The file list is taken once, so every later step walks the same list. Listing a big tree may take
        // longer than one request: it goes in steps of its own (list_files) before the handshake.
        paths_->remove_work_files();

        st_ = json::object();
        st_["job"] = random_nonce();
        st_["phase"] = "listing";
        st_["listing"] = {{"bytes", 0}, {"last", ""}};
        st_["token_id"] = token_.token_id;
        st_["fingerprint"] = token_fingerprint(token_);
        st_["destination_url"] = token_.url;
        st_["site_name"] = opt_.site_name;
        st_["expires_at"] = token_.expires_at;
        st_["started_at"] = now_s();
        st_["site"] = site_to_json(s);
        st_["source_url"] = s.home;
        st_["views"] = views;
        st_["options"] = {{"excludes", opt_.excludes}, {"default_excludes", opt_.default_excludes},
                          {"all_tables", opt_.all_tables}};
        st_["cursor"] = {{"phase", "site"}, {"table", 0}, {"chunk", 0}, {"key", json::array()}, {"offset", 0},
                         {"file_pos", 0}, {"file_offset", 0}, {"manifest_bytes", 0}, {"manifest_count", 0}};
        st_["row_bytes"] = row_bytes;
        st_["pending"] = nullptr;
        st_["next_index"] = 0;
        st_["parts"] = 0;
        st_["budget"] = 4u << 20;
        st_["max_part"] = 0;
        st_["total_bytes"] = total;
        st_["done_bytes"] = 0;
        st_["sent_bytes"] = 0;
        st_["tables"] = tables.size();
        st_["files"] = 0;
        st_["item"] = "";
        st_["error"] = "";
        st_["permanent"] = false;
        st_["warnings"] = json::array();
        st_["log"] = json::array();
        save();
    }

    // Lists the site's files into files.jsonl until the walk is complete or `deadline` passes (after at least
    // some entries, so every step makes progress). The list's length and last path are saved after each step:
    // a step that was killed is cut back to them and the walk resumes after that path.
    template <typename TimePoint>
    void list_files(TimePoint deadline) {
        json& listing = st_["listing"];
        const uint64_t bytes = listing.value("bytes", uint64_t(0));
        std::string last;
        if (!base64_decode(listing.value("last", ""), last)) throw Error(ErrorKind::state, "the push state is damaged");
        int fd = ::open(paths_->files.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) throw_errno(ErrorKind::io, "cannot write the file list", errno);
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(::fdopen(fd, "wb"), std::fclose);
        if (!out) {
            ::close(fd);
            throw_errno(ErrorKind::io, "cannot write the file list", errno);
        }
        if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0 || ::lseek(fd, static_cast<off_t>(bytes), SEEK_SET) < 0)
            throw_errno(ErrorKind::io, "cannot write the file list", errno);
        const json& o = st_["options"];
        ScanOptions so;
        so.excludes = o.value("excludes", std::vector<std::string>{});
        so.default_excludes = o.value("default_excludes", true);
        so.resume_after = last;
        uint64_t asked = 0;
        so.stop = [&]() { return (++asked & 255) == 0 && std::chrono::steady_clock::now() >= deadline; };
        uint64_t files = st_.value("files", uint64_t(0)), total = st_.value("total_bytes", uint64_t(0));
        std::string line;
        const bool complete = scan_tree(
            root_, so,
            [&](const ScanEntry& e) {
                json j = {{"p", base64_encode(e.path)},
                          {"k", e.kind == ScanEntry::directory ? "d" : e.kind == ScanEntry::symlink ? "l" : "f"},
                          {"m", e.mode},
                          {"t", e.mtime},
                          {"n", e.mtime_nsec},
                          {"s", e.size}};
                if (e.kind == ScanEntry::symlink) j["l"] = base64_encode(e.target);
                line = j.dump() + "\n";
                if (std::fwrite(line.data(), 1, line.size(), out.get()) != line.size())
                    throw_errno(ErrorKind::io, "cannot write the file list", errno);
                total += e.size;
                ++files;
                last = e.path;
            },
            [&](const std::string& w) { warn(w); });
        if (std::fflush(out.get()) != 0 || ::fsync(fd) != 0) throw_errno(ErrorKind::io, "cannot write the file list", errno);
        const off_t end = ::lseek(fd, 0, SEEK_CUR);
        if (end < 0) throw_errno(ErrorKind::io, "cannot write the file list", errno);
        listing["bytes"] = static_cast<uint64_t>(end);
        listing["last"] = base64_encode(last);
        st_["files"] = files;
        st_["total_bytes"] = total;
        st_["item"] = last.substr(0, last.rfind('/') == std::string::npos ? 0 : last.rfind('/'));
        if (complete) {
            st_["phase"] = "handshake";
            st_["item"] = "";
            log("push " + st_["job"].get<std::string>().substr(0, 8) + " started: " + std::to_string(st_.value("tables", 0)) +
                " tables, " + std::to_string(files) + " files, about " + std::to_string(total >> 20) + " MiB, to " +
                token_.url + " (token " + st_["fingerprint"].get<std::string>() + ")");
        }
        save();
        report();
        maybe_die("listing");
    }

    // ---- requests ----

    // The request-target and URL of a route: through WordPress's REST API (index.php: nginx refuses PUT on a
    // folder), or through `script`, a path below the site's URL that takes the same rest_route parameter.
    std::string url_for(const std::string& route, std::string& target, const std::string& script = "") const {
        std::string base = token_.url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        size_t scheme = base.find("://");
        size_t path_start = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
        std::string path = path_start == std::string::npos ? "" : base.substr(path_start);
        target = path + "/" + (script.empty() ? std::string("index.php") : script) + "?rest_route=/sitelift/v1" + route;
        return (path_start == std::string::npos ? base : base.substr(0, path_start)) + target;
    }

    // The destination's direct endpoint for parts as it named it in the handshake: kept only when it is a plain
    // relative path to a PHP file (the answer is not authenticated; parts are, wherever they go).
    static std::string direct_path(const std::string& p) {
        if (p.empty() || p.size() > 512 || p.front() == '/' || p.find("..") != std::string::npos || p.size() < 5 ||
            p.compare(p.size() - 4, 4, ".php") != 0)
            return "";
        for (char c : p)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '.' && c != '_' && c != '-' && c != '~')
                return "";
        return p;
    }

    // body_sha256: the body's hash when it is known already (a part's is taken while the part is made).
    // `file`, when given, is the body (and body_sha256 its hash); else `body`.
    HttpResponse call(const std::string& method, const std::string& route, const std::string& body,
                      const char* content_type, const std::string& script = "", const std::string& body_sha256 = "",
                      FileBody* file = nullptr) {
        std::string target;
        std::string url = url_for(route, target, script);
        const int64_t ts = now_s();
        const std::string nonce = random_nonce();
        const std::string sig =
            sign_request(mac_, method, target, ts, nonce, body_sha256.empty() ? Sha256::hex(body) : body_sha256);
        std::vector<std::string> headers = {
            "X-SiteLift-Token: " + token_.token_id, "X-SiteLift-Timestamp: " + std::to_string(ts),
            "X-SiteLift-Nonce: " + nonce, "X-SiteLift-Signature: " + sig, std::string("Content-Type: ") + content_type,
            "Accept: application/json"};
        HttpResponse r = http_.request(method, url, headers, body, file);
        if (r.status == 0) throw Transient("cannot reach the destination (" + r.error + ")");
        if (r.status == 200) accepted_ = true;
        return r;
    }

    // An answer from SiteLift's own code (either endpoint), as opposed to a web server's, proxy's or PHP's.
    static bool answered_by_sitelift(const HttpResponse& r) {
        json j = parse_body(r);
        const std::string code = j.value("code", "");
        return code.rfind("sitelift_", 0) == 0 && code != "sitelift_direct_unavailable";
    }

    static json parse_body(const HttpResponse& r) {
        try {
            json j = json::parse(r.body);
            return j.is_object() ? j : json::object();
        } catch (const json::exception&) {
            return json::object();
        }
    }

    // Sorts an unsuccessful answer into retry-later or stop.
    [[noreturn]] void refuse(const HttpResponse& r, const std::string& what) {
        json j = parse_body(r);
        std::string msg = j.value("message", "");
        std::string code = j.value("code", "");
        if (msg.empty()) msg = "HTTP " + std::to_string(r.status);
        // No room on the destination does not pass by waiting: stop, say so, and keep the job for the rerun.
        if (r.status == 507)
            throw Error(ErrorKind::io, "the destination has no room for the migration: " + msg +
                                           " (run the push again once there is room: it resumes where it stopped)");
        if (r.status == 429 || r.status >= 500 || r.status == 408)
            throw Transient(what + ": the destination answered " + std::to_string(r.status) + " (" + msg + ")");
        if (code.rfind("sitelift_", 0) != 0 && (r.status == 404 || r.status == 400 || r.status == 401 || r.status == 403)) {
            // Not our routes answering: the plugin is missing or inactive there, or the URL is wrong.
            throw Error(ErrorKind::state, what + ": the destination does not answer as SiteLift (HTTP " +
                                              std::to_string(r.status) + "); is the SiteLift plugin active at " +
                                              token_.url + "?");
        }
        if (r.status == 401 && accepted_ && (code == "sitelift_bad_signature" || code == "sitelift_replayed"))
            // The token was accepted before and its id is right, so the request was most likely damaged on the
            // way: send it again. (Before any acceptance it means a token whose secret is not the destination's.)
            throw Transient(what + ": the destination could not verify the request (" + msg + ")");
        if (r.status == 401 || r.status == 403)
            throw Error(ErrorKind::security, "the destination refused the machine token: " + msg +
                                                 " (generate a new token on the destination and paste it here)");
        throw Error(ErrorKind::state, what + ": " + msg);
    }

    void handshake() {
        const SiteInfo s = site_from_json(st_["site"]);
        json body = {{"job", st_["job"]},
                     {"site_name", opt_.site_name},
                     {"source",
                      {{"url", s.home},
                       {"wp_version", s.wp_version},
                       {"php_version", s.php_version},
                       {"db_server", s.db_server},
                       {"sitelift", SITELIFT_VERSION},
                       {"tables", st_.value("tables", 0)},
                       {"files", st_.value("files", 0)},
                       {"total_bytes", st_.value("total_bytes", 0)}}}};
        HttpResponse r = call("POST", "/jobs", body.dump(), "application/json");
        if (r.status == 409) {
            json j = parse_body(r);
            throw Error(ErrorKind::state, j.value("message", std::string("the destination refused the push")));
        }
        if (r.status != 200) refuse(r, "handshake");
        json j = parse_body(r);
        const uint64_t next = j.value("next_index", uint64_t(0));
        const uint64_t acked = st_.value("parts", uint64_t(0));
        json limits = j.value("limits", json::object());
        st_["destination"] = j.value("destination", json::object());
        st_["destination"]["limits"] = limits;
        uint64_t max_body = limits.value("max_body", uint64_t(8u << 20));
        uint64_t max_part = std::clamp<uint64_t>(max_body > kRequestOverhead * 2 ? max_body - kRequestOverhead : kMinPart,
                                                 kMinPart, kMaxPart);
        if (opt_.max_part_bytes) max_part = std::clamp<uint64_t>(opt_.max_part_bytes, kMinPart, max_part);
        if (st_.value("max_part", uint64_t(0)) == 0 || st_.value("max_part", uint64_t(0)) > max_part)
            st_["max_part"] = max_part;
        if (st_.value("budget", uint64_t(0)) > st_.value("max_part", uint64_t(0)) * 4)
            st_["budget"] = st_.value("max_part", uint64_t(0));
        // Where parts may go past the REST API (transfer.php), unless it already failed us in this job.
        if (!st_.value("direct_off", false)) st_["parts_path"] = direct_path(j.value("parts_path", ""));
        if (j.value("phase", "") == "done") {
            st_["phase"] = "done";
            st_["result"] = j.value("result", json::object());
            log("the destination had already finished this migration");
            save();
            handshaken_ = true;
            return;
        }
        if (next > acked) {
            // The destination applied a part whose acknowledgement never reached us.
            if (!st_["pending"].is_null() && st_["pending"].value("index", uint64_t(0)) + 1 == next) {
                acknowledge(next);
            } else {
                // (Answers are not authenticated, so a damaged one looks like this too: ask again.)
                throw Transient("the destination holds more of this migration than the source remembers (if this "
                                "persists, restart the push)");
            }
        } else if (next < acked) {
            throw Error(ErrorKind::state, "the destination lost the progress of this migration (it holds " +
                                              std::to_string(next) + " of " + std::to_string(acked) +
                                              " parts); restart the push");
        }
        if (st_.value("phase", "") == "handshake") st_["phase"] = "database";
        if (acked == 0 && next == 0)
            log("connected to " + token_.url + " (" + j["destination"].value("wp_version", std::string("?")) + ")");
        else
            log("resumed at part " + std::to_string(next));
        st_["retry"] = "";
        save();
        handshaken_ = true;
    }

    // The destination holds part pending.index: move the cursor past it.
    void acknowledge(uint64_t next_index) {
        json pending = st_["pending"];
        st_["cursor"] = pending["cursor_after"];
        st_["parts"] = next_index;
        st_["sent_bytes"] = st_.value("sent_bytes", uint64_t(0)) + pending.value("sealed_bytes", uint64_t(0));
        st_["done_bytes"] = st_.value("done_bytes", uint64_t(0)) + pending.value("bytes", uint64_t(0));
        st_["item"] = pending.value("item", "");
        if (pending.value("last", false)) st_["phase"] = "finalize";
        else st_["phase"] = pending.value("phase", "database");
        st_["pending"] = nullptr;
        save();
        ::unlink(paths_->segment.c_str());
    }

    void send_pending() {
        const json& pending = st_["pending"];
        const uint64_t index = pending.value("index", uint64_t(0));
        const uint64_t size = pending.value("sealed_bytes", uint64_t(0));
        // The part is sent from its file as it is read: it is never held in memory whole.
        int fd = ::open(paths_->segment.c_str(), O_RDONLY | O_CLOEXEC);
        std::unique_ptr<int, void (*)(int*)> guard(fd >= 0 ? &fd : nullptr, [](int* f) { ::close(*f); });
        struct stat sb;
        bool intact = fd >= 0 && ::fstat(fd, &sb) == 0 && static_cast<uint64_t>(sb.st_size) == size;
        if (intact && sealed_index_ != index) {
            // Made by an earlier process: it must still be what was sealed (the file is not synced, so a crash
            // of the machine may leave it short or stale). A record without the hash (an older job) takes the
            // file as it is.
            std::string hex;
            intact = hash_file(fd, size, hex) && pending.value("sealed_sha256", hex) == hex;
            if (intact) sealed_sha256_ = hex;
        }
        if (!intact) {
            // The segment file did not survive (killed while writing it, or lost in a crash): make it again
            // from the same cursor.
            log("part " + std::to_string(index) + " was not found intact on disk; it is made again");
            drop_pending();
            return;
        }
        sealed_index_ = index;  // its hash is known from here on, made by this process or read back
        FileBody body{fd, size};
        auto t0 = std::chrono::steady_clock::now();
        const std::string direct = st_.value("parts_path", "");
        HttpResponse r = call("PUT", "/jobs/" + st_["job"].get<std::string>() + "/parts/" + std::to_string(index), "",
                              "application/octet-stream", direct, sealed_sha256_, &body);
        if (!direct.empty() && r.status != 413 && !answered_by_sitelift(r)) {
            // Blocked by the host, the plugin's file missing, PHP failing there: the REST route does the same work.
            st_["parts_path"] = "";
            st_["direct_off"] = true;
            log("the destination's direct part endpoint answered HTTP " + std::to_string(r.status) +
                "; parts go through its REST API from now on");
            save();
            guard.reset();
            send_pending();
            return;
        }
        if (r.status == 413) {
            uint64_t max_part = std::max<uint64_t>(kMinPart, st_.value("max_part", uint64_t(0)) / 2);
            if (st_.value("max_part", uint64_t(0)) <= kMinPart)
                throw Error(ErrorKind::state, "the destination refuses even small requests (413); raise its "
                                              "post_max_size / client_max_body_size");
            st_["max_part"] = max_part;
            st_["budget"] = std::min<uint64_t>(st_.value("budget", uint64_t(0)), max_part);
            log("the destination refused a part of " + std::to_string(size >> 10) + " KiB as too big; parts "
                "are now at most " + std::to_string(max_part >> 10) + " KiB");
            drop_pending();
            return;
        }
        if (r.status == 400 || r.status == 409) {
            json j = parse_body(r);
            if (j.value("code", "") == "sitelift_out_of_order") {
                reconnect();
                throw Transient("the destination expects another part than " + std::to_string(index));
            }
            if (j.value("code", "") == "sitelift_part_unauthenticated")
                throw Transient("the destination could not authenticate part " + std::to_string(index) +
                                " (changed in transit?)");
        }
        if (r.status != 200) refuse(r, "part " + std::to_string(index));
        json j = parse_body(r);
        if (j.value("code", "") != "sitelift_ok" || !j.contains("next_index")) {
            reconnect();  // a 200 that is not SiteLift's (a proxy's or cache's page): ask what the destination holds
            throw Transient("part " + std::to_string(index) + ": the destination's answer is not SiteLift's");
        }
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const uint64_t next = j.value("next_index", index + 1);
        if (next != index + 1) {
            reconnect();  // answers are not authenticated: ask again what the destination holds
            throw Transient("the destination acknowledged part " + std::to_string(index) + " with next part " +
                            std::to_string(next));
        }
        double elapsed = std::max(1.0, static_cast<double>(now_s() - st_.value("started_at", now_s())));
        acknowledge(next);
        st_["rate"] = static_cast<uint64_t>(st_.value("done_bytes", uint64_t(0)) / elapsed);
        uint64_t left = st_.value("total_bytes", uint64_t(0)) > st_.value("done_bytes", uint64_t(0))
                            ? st_.value("total_bytes", uint64_t(0)) - st_.value("done_bytes", uint64_t(0))
                            : 0;
        st_["eta"] = st_.value("rate", uint64_t(0)) ? left / st_.value("rate", uint64_t(1)) : 0;
        if (index % 20 == 0 || st_.value("phase", "") == "finalize")
            log("part " + std::to_string(index) + " acknowledged (" + std::to_string(size >> 10) + " KiB in " +
                std::to_string(static_cast<int>(secs * 1000)) + " ms)");
        save();
        report();
        maybe_die("part");
    }

    void drop_pending() {
        st_["pending"] = nullptr;
        ::unlink(paths_->segment.c_str());
        save();
    }

    void finalize() {
        st_["item"] = "";
        report();
        log("all parts sent; the destination verifies and swaps the site in");
        save();
        HttpResponse r = call("POST", "/jobs/" + st_["job"].get<std::string>() + "/finalize", "{}", "application/json");
        maybe_die("finalize");
        if (r.status != 200) refuse(r, "finalize");
        json j = parse_body(r);
        st_["phase"] = "done";
        st_["result"] = j.value("result", json::object());
        st_["finished_at"] = now_s();
        st_["done_bytes"] = std::max(st_.value("done_bytes", uint64_t(0)), st_.value("total_bytes", uint64_t(0)));
        st_["total_bytes"] = st_["done_bytes"];
        st_["eta"] = 0;
        log("done: " + token_.url + " now serves the site");
        save();
        paths_->remove_work_files();
        report();
    }

    // ---- segments ----

    struct Builder {
        std::string out;
        std::unique_ptr<ArchiveWriter> writer;
        uint64_t bytes = 0;  // uncompressed entry bytes
    };

    struct SegmentInfo {
        bool last = false;
        uint64_t bytes = 0;
        std::string item, phase = "database";
        std::string note;  // for the log, written when the segment is installed (builds run beside st_)
    };

    // What a segment build needs of the job state, copied, so a build can run beside the main thread (which
    // keeps changing st_) and bring back what it learned.
    struct BuildInput {
        SiteInfo site;
        std::vector<std::string> views;
        int64_t mtime = 0;
        uint64_t max_part = 0;
        std::string job;
        json row_bytes;  // in: estimates per table; out: updated
        json warnings;   // in and out
    };

    struct Prepared {
        uint64_t index = 0;
        json base;          // the cursor it was made from
        json cursor_after;
        uint64_t sealed_bytes = 0;  // in segment.next
        std::string sealed_sha256;  // for the request's signature, taken here rather than on the sending thread
        SegmentInfo info;
        uint64_t next_budget = 0;
        json row_bytes, warnings;
    };

    BuildInput build_input() const {
        BuildInput in;
        in.site = site_from_json(st_.at("site"));
        in.views = st_.value("views", std::vector<std::string>{});
        in.mtime = st_.value("started_at", now_s());
        in.max_part = st_.value("max_part", uint64_t(8u << 20));
        in.job = st_.at("job").get<std::string>();
        in.row_bytes = st_.value("row_bytes", json::object());
        in.warnings = st_.value("warnings", json::array());
        return in;
    }

    // Makes and seals the segment at `cursor` into segment.next as it is made (never whole in memory), halving
    // the budget until it fits the largest part. Touches no member but the database connection and the manifest
    // spool (see BuildInput).
    Prepared prepare(BuildInput in, const json& cursor, uint64_t budget, uint64_t part_index) {
        budget = std::max<uint64_t>(budget, 64u << 10);
        const uint64_t first_budget = budget;
        in_ = &in;
        struct Reset {
            BuildInput*& p;
            ~Reset() { p = nullptr; }
        } reset{in_};
        // The part's header names the last part, and comes before its ciphertext. The manifest, which ends the
        // push, starts a segment of its own; when the rest of it is larger than a segment, that segment holds
        // the next slice of it (see build_segment), so a segment knows at its start whether it is the last.
        // The manifest's head holds the time it was made: it is made once, kept in the cursor, and every
        // slice is cut from the same text.
        row_cap_ = UINT64_MAX;
        const bool manifest_phase = cursor.value("phase", "site") == "manifest";
        json start = cursor;
        if (manifest_phase && !start.contains("manifest_head")) {
            ManifestWriter m(paths_->manifest, start.value("manifest_bytes", uint64_t(0)),
                             start.value("manifest_count", uint64_t(0)), in.warnings.get<std::vector<std::string>>());
            start["manifest_head"] = m.head(in.site, manifest_options());
        }
        for (;;) {
            Prepared p;
            p.index = part_index;
            p.base = cursor;
            p.cursor_after = start;
            bool last = false;
            if (manifest_phase) {
                const uint64_t size = ManifestWriter::text_size(start["manifest_head"].get_ref<const std::string&>().size(),
                                                                start.value("manifest_bytes", uint64_t(0)));
                last = size - start.value("manifest_sent", uint64_t(0)) <= budget;
            }
            SegmentFile file(paths_->segment_next, in.max_part);
            rows_tried_ = 0;
            Sha256 hash;
            try {
                PartSealer sealer(enc_, in.job, part_index, last, [&](const char* d, size_t n) {
                    file.write(d, n);
                    hash.update(d, n);
                });
                build_segment(p.cursor_after, budget, last, p.info,
                              [&](const void* d, size_t n) { sealer.update(static_cast<const char*>(d), n); });
                sealer.finish();
            } catch (const SegmentTooBig&) {
                // Incompressible data: make it again from the same cursor, smaller. Table chunks are cut by a row
                // count from the table's average row size, which a run of rows far larger than the average
                // defeats: their row count halves too, down to chunks of a single row.
                bool smaller = false;
                const std::string at = start.value("phase", "site");
                if ((at == "site" || at == "tables") && !start.contains("row_slices") && rows_tried_ == 1 &&
                    budget <= (64u << 10)) {
                    // Even the smallest segment is too big with chunks of one row: the first goes in slices,
                    // each as big as a segment may be (add_chunk_slice).
                    start["row_slices"] = json::object();
                    budget = first_budget;
                    continue;
                }
                if (budget > (64u << 10)) {
                    budget /= 2;
                    smaller = true;
                }
                if (rows_tried_ > 1) {
                    row_cap_ = rows_tried_ / 2;
                    smaller = true;
                }
                if (smaller) continue;
                throw Error(ErrorKind::state, "a single entry (" + (p.info.item.empty() ? p.info.phase : p.info.item) +
                                              ") does not fit into the destination's largest request; raise its "
                                              "post_max_size");
            }
            file.finish();
            p.sealed_bytes = file.size();
            p.sealed_sha256 = hash.hex_digest();
            // Aim the next segment at ~85% of the largest part, from this one's compression ratio.
            double ratio = static_cast<double>(p.sealed_bytes) / static_cast<double>(p.info.bytes + 1);
            uint64_t next = static_cast<uint64_t>(0.85 * static_cast<double>(in.max_part) / std::max(ratio, 0.02));
            next = std::clamp<uint64_t>(next, 64u << 10, std::max<uint64_t>(budget * 2, 64u << 10));
            p.next_budget = std::min<uint64_t>(next, in.max_part * 16);
            p.row_bytes = in.row_bytes;
            p.warnings = in.warnings;
            return p;
        }
    }

    // The prepared segment becomes the pending one: on disk first (prepare() wrote it aside), then in the state.
    void install(Prepared&& p) {
        do_rename(paths_->segment_next, paths_->segment);
        st_["budget"] = p.next_budget;
        st_["row_bytes"] = p.row_bytes;
        st_["warnings"] = p.warnings;
        if (p.cursor_after.contains("manifest_parts")) st_["manifest_parts"] = p.cursor_after["manifest_parts"];
        if (p.cursor_after.contains("row_slice_parts")) st_["row_slice_parts"] = p.cursor_after["row_slice_parts"];
        sealed_index_ = p.index;
        sealed_sha256_ = p.sealed_sha256;
        if (!p.info.note.empty()) log(p.info.note);
        st_["pending"] = {{"index", p.index},          {"last", p.info.last},  {"bytes", p.info.bytes},
                          {"sealed_bytes", p.sealed_bytes}, {"sealed_sha256", p.sealed_sha256},
                          {"cursor_after", p.cursor_after}, {"item", p.info.item}, {"phase", p.info.phase}};
        if (st_.value("phase", "") != "finalize") st_["phase"] = p.info.phase;
        st_["item"] = p.info.item;
        save();
        report();
        maybe_die(p.info.phase == "files" ? "files" : "database");
        if (p.cursor_after.contains("row_slices")) maybe_die("row-slice");
    }

    void make_segment() {
        install(prepare(build_input(), st_["cursor"], st_.value("budget", uint64_t(4u << 20)), st_.value("parts", uint64_t(0))));
    }

    // While part i travels, part i+1 is made on another thread (the CLI and each step alike).
    void start_ahead() {
        if (ahead_.valid() || st_["pending"].is_null() || st_["pending"].value("last", false)) return;
        BuildInput in = build_input();
        json cursor = st_["pending"]["cursor_after"];
        uint64_t budget = st_.value("budget", uint64_t(4u << 20));
        uint64_t index = st_["pending"].value("index", uint64_t(0)) + 1;
        ahead_ = std::async(std::launch::async, [this, in = std::move(in), cursor = std::move(cursor), budget, index]() mutable {
            return prepare(std::move(in), cursor, budget, index);
        });
    }

    // Takes the segment made ahead when it still follows on from where the job stands; drops it otherwise.
    void finish_ahead() {
        if (!ahead_.valid()) return;
        Prepared p = ahead_.get();
        if (st_["pending"].is_null() && p.index == st_.value("parts", uint64_t(0)) && p.base == st_["cursor"])
            install(std::move(p));
    }


    // Fills one segment from `cursor` (advanced in place) with about `budget` uncompressed bytes, giving the
    // compressed archive to `out` as it is made. A segment that starts in the manifest phase holds the
    // manifest and nothing else: all of the rest of it when `last`, else the next `budget` bytes of it.
    void build_segment(json& cursor, uint64_t budget, bool last, SegmentInfo& info,
                       const std::function<void(const void*, size_t)>& out) {
        const bool manifest_segment = cursor.value("phase", "site") == "manifest";
        WriterOptions wo;
        wo.compression = Compression::zstd;
        // A segment holds one phase. Files are mostly media that zstd barely shrinks: its fast level -1 makes
        // them about 0.6% bigger than level 1 at half the CPU (the source's zstd otherwise takes a fifth of
        // both cores while the destination applies parts). SQL and the manifest shrink well, at level 1.
        wo.level = cursor.value("phase", "site") == "files" ? -1 : 1;
        wo.background = false;
        wo.threads = 1;
        ManifestWriter manifest(paths_->manifest, cursor.value("manifest_bytes", uint64_t(0)),
                                cursor.value("manifest_count", uint64_t(0)), in_->warnings.get<std::vector<std::string>>());
        {
            ArchiveWriter w(out, wo);
            const SiteInfo& site = in_->site;
            const int64_t mtime = in_->mtime;
            uint64_t used = 0;
            auto room = [&]() { return used < budget ? budget - used : 0; };
            while (room() > 0 && !info.last) {
                const std::string phase = cursor.value("phase", "site");
                if (phase == "site") {
                    std::string text = site_to_json(site).dump(2) + "\n";
                    w.add_file("site.json", text, 0644, mtime);
                    used += text.size();
                    cursor["phase"] = "tables";
                } else if (phase == "tables") {
                    info.phase = "database";
                    const auto& tables = site.tables;
                    size_t t = cursor.value("table", size_t(0));
                    if (t >= tables.size()) {
                        cursor["phase"] = "extras";
                        continue;
                    }
                    if (cursor.contains("row_slices")) {
                        used += add_chunk_slice(w, manifest, cursor, tables[t], room(), mtime, info);
                        break;  // a slice ends its segment
                    }
                    used += add_table_chunk(w, manifest, cursor, tables[t], room(), mtime, info);
                } else if (phase == "extras") {
                    info.phase = "database";
                    Connection& conn = db();
                    for (const auto& v : in_->views) {
                        std::string sql = dump_view(conn, v);
                        used += add_small(w, manifest, "database/views/" + v + ".sql", sql, mtime);
                    }
                    for (const auto& t : site.tables) {
                        std::string sql = dump_triggers(conn, t);
                        if (!sql.empty()) used += add_small(w, manifest, "database/triggers/" + t + ".sql", sql, mtime);
                    }
                    cursor["phase"] = "files";
                    break;  // files start a segment of their own, so each part is of one phase
                } else if (phase == "files") {
                    info.phase = "files";
                    if (!add_file_entries(w, manifest, cursor, budget, used, info)) cursor["phase"] = "manifest";
                    else break;  // the segment is full
                } else if (phase == "manifest") {
                    if (!manifest_segment) break;  // the manifest starts a segment of its own (see prepare)
                    info.phase = "files";
                    info.item = "manifest.json";
                    // The whole manifest is "manifest.json"; a manifest larger than a part goes as slices
                    // "manifest-slices/<offset>", the last of which is "manifest.json" (the destination joins them).
                    const std::string& head = cursor["manifest_head"].get_ref<const std::string&>();
                    const uint64_t size = manifest.text_size(head);
                    const uint64_t sent = cursor.value("manifest_sent", uint64_t(0));
                    const uint64_t len = last ? size - sent : std::min<uint64_t>(budget, size - sent);
                    manifest.write_range(w, last ? "manifest.json" : ManifestWriter::slice_path(sent), head,
                                         sent, len, mtime);
                    used += len;
                    cursor["manifest_sent"] = sent + len;
                    cursor["manifest_parts"] = cursor.value("manifest_parts", uint64_t(0)) + 1;
                    if (!last) break;  // one slice a segment
                    cursor["phase"] = "end";
                    info.last = true;
                } else {
                    break;
                }
            }
            w.close();
            info.bytes = used;
        }
        manifest.sync();
        cursor["manifest_bytes"] = manifest.spool_bytes();
        cursor["manifest_count"] = manifest.count();
        if (info.last != last) throw Error(ErrorKind::state, "internal: a part ended otherwise than it was sealed");
    }

    // manifest.json's "options".
    json manifest_options() const {
        return {{"compression", "zstd"}, {"all_tables", opt_.all_tables}, {"excludes", opt_.excludes}, {"push", true}};
    }

    // Warnings go into the job state (and from there into the manifest of the last segment).
    void warn(const std::string& message) {
        json& list = in_ ? in_->warnings : st_["warnings"];
        if (!list.is_array()) list = json::array();
        if (list.size() >= 1000) return;
        for (const auto& m : list)
            if (m == message) return;
        list.push_back(message);
    }

    // An in-memory file into the segment, and its manifest record (table facts added by the caller).
    static EntryRecord add_text(ArchiveWriter& w, const std::string& path, const std::string& text, int64_t mtime) {
        w.add_file(path, text, 0644, mtime);
        EntryRecord r;
        r.path = path;
        r.type = "file";
        r.size = text.size();
        r.mode = 0644;
        r.mtime = mtime;
        r.sha256 = Sha256::hex(text);
        return r;
    }

    uint64_t add_small(ArchiveWriter& w, ManifestWriter& manifest, const std::string& path, const std::string& sql,
                       int64_t mtime) {
        manifest.add(add_text(w, path, sql, mtime));
        return sql.size();
    }

    // Dumps the table chunk at `cursor` (at most max_rows rows) into sql_buffer_.
    TableDumpResult dump_chunk(const std::string& table, const json& cursor, uint64_t max_rows, uint64_t reserve) {
        Connection& conn = db();
        const uint64_t chunk = cursor.value("chunk", uint64_t(0));
        DumpOptions dopt;
        dopt.strip_foreign_keys = true;
        dopt.continuation = chunk > 0;
        dopt.max_rows = max_rows;
        dopt.after_key = cursor.value("key", std::vector<std::string>{});
        dopt.offset = cursor.value("offset", uint64_t(0));
        std::string& sql = sql_buffer_;  // kept from chunk to chunk (only one segment is built at a time)
        sql.clear();
        sql.reserve(static_cast<size_t>(reserve));
        TableDumpResult res = dump_table(conn, table, [&](std::string_view p) { sql.append(p); }, dopt);
        if (chunk == 0)
            for (const auto& fk : res.foreign_keys) warn("table '" + table + "': foreign key not carried over: " + fk);
        return res;
    }

    // Moves the cursor past a chunk that held `rows` of the `max_rows` it asked for.
    void advance_table(json& cursor, const std::string& table, uint64_t rows, uint64_t max_rows,
                       const std::vector<std::string>& last_key, bool has_primary_key) {
        const uint64_t chunk = cursor.value("chunk", uint64_t(0));
        if (rows < max_rows) {  // the table is complete
            cursor["table"] = cursor.value("table", uint64_t(0)) + 1;
            cursor["chunk"] = 0;
            cursor["key"] = json::array();
            cursor["offset"] = 0;
        } else {
            cursor["chunk"] = chunk + 1;
            cursor["key"] = last_key;
            cursor["offset"] = cursor.value("offset", uint64_t(0)) + rows;
            if (!has_primary_key && chunk == 0)
                warn("table '" + table + "' has no primary key; it was sent in chunks by row position");
        }
    }

    uint64_t add_table_chunk(ArchiveWriter& w, ManifestWriter& manifest, json& cursor, const std::string& table,
                             uint64_t room, int64_t mtime, SegmentInfo& info) {
        uint64_t row_bytes = std::max<uint64_t>(in_->row_bytes.value(table, uint64_t(0)), 64);
        uint64_t target = std::min<uint64_t>(std::max<uint64_t>(room, 64u << 10), kMaxTableChunk);
        const uint64_t max_rows = std::min<uint64_t>(std::max<uint64_t>(1, target / row_bytes), row_cap_);
        rows_tried_ = std::max(rows_tried_, max_rows);
        info.item = table;  // named if even one row does not fit
        // one statement may overshoot the target
        TableDumpResult res = dump_chunk(table, cursor, max_rows, target + (1u << 20));
        if (res.rows > 0) in_->row_bytes[table] = std::max<uint64_t>(sql_buffer_.size() / res.rows, 16);
        return add_dumped_chunk(w, manifest, cursor, table, res, max_rows, mtime);
    }

    // Adds the chunk dump_chunk left in sql_buffer_ (asked for max_rows rows) as "database/<chunk name>" and
    // moves the cursor past it; returns its size.
    uint64_t add_dumped_chunk(ArchiveWriter& w, ManifestWriter& manifest, json& cursor, const std::string& table,
                              const TableDumpResult& res, uint64_t max_rows, int64_t mtime) {
        const std::string& sql = sql_buffer_;
        EntryRecord r = add_text(w, "database/" + table_chunk_name(table, cursor.value("chunk", uint64_t(0))), sql, mtime);
        r.table = table;
        r.rows = res.rows;
        r.checksum = res.checksum;
        manifest.add(r);
        advance_table(cursor, table, res.rows, max_rows, res.last_key, res.has_primary_key);
        return sql.size();
    }

    // A chunk of one row that no part holds whole (cursor["row_slices"] set, see prepare) goes as slices
    // "sql-slices/<size>/<offset>/<chunk name>", one a segment. They are cut from a copy of the chunk's SQL
    // kept on disk (row.sql), so every slice comes from the same text whichever process cuts it, even when
    // each step reads its own snapshot. When that copy is lost or is not what the first slice recorded, the
    // row is read again and its slices start over from offset 0, which the destination accepts.
    uint64_t add_chunk_slice(ArchiveWriter& w, ManifestWriter& manifest, json& cursor, const std::string& table,
                             uint64_t room, int64_t mtime, SegmentInfo& info) {
        info.item = table;
        const std::string name = table_chunk_name(table, cursor.value("chunk", uint64_t(0)));
        const std::string& copy = paths_->row;
        json& rs = cursor["row_slices"];
        uint64_t sent = rs.value("sent", uint64_t(0));
        int fd = -1;
        std::unique_ptr<int, void (*)(int*)> guard(&fd, [](int* f) {
            if (*f >= 0) ::close(*f);
        });
        if (sent > 0 && rs.value("name", "") == name) {
            fd = ::open(copy.c_str(), O_RDONLY | O_CLOEXEC);
            struct stat sb;
            if (fd >= 0 && (::fstat(fd, &sb) != 0 || static_cast<uint64_t>(sb.st_size) != rs.value("size", uint64_t(0)))) {
                ::close(fd);
                fd = -1;
            }
        }
        const uint64_t len_wanted = std::max<uint64_t>(room, 64u << 10);
        std::vector<char> buf(kReadChunk);
        if (fd >= 0 && sent + len_wanted >= rs.value("size", uint64_t(0))) {
            // The last slice: the copy must still be the text the first slice recorded.
            std::string hex;
            if (!hash_file(fd, rs.value("size", uint64_t(0)), hex) || hex != rs.value("sha256", "")) {
                ::close(fd);
                fd = -1;
            }
        }
        if (fd < 0) {
            if (sent > 0) info.note = "the copy of a big row of table '" + table + "' was lost; its slices start over";
            TableDumpResult res = dump_chunk(table, cursor, 1, 1u << 20);
            const std::string& sql = sql_buffer_;
            // Shrunk meanwhile (or the table ended): a chunk like any other, unless slices of it went already
            // (the destination then takes nothing but the next slice, or a first one again).
            if (sent == 0 && sql.size() <= len_wanted) {
                cursor.erase("row_slices");
                return add_dumped_chunk(w, manifest, cursor, table, res, 1, mtime);
            }
            if (sql.size() > kMaxSlicedChunk)
                throw Error(ErrorKind::state, "a row of table '" + table + "' takes " + std::to_string(sql.size() >> 20) +
                                                  " MiB as SQL, more than SiteLift carries (" +
                                                  std::to_string(kMaxSlicedChunk >> 20) + " MiB)");
            write_file_atomic(copy, sql);
            rs = {{"name", name},
                  {"size", sql.size()},
                  {"sha256", Sha256::hex(sql)},
                  {"rows", res.rows},
                  {"checksum", res.checksum},
                  {"key", res.last_key},
                  {"has_primary_key", res.has_primary_key},
                  {"sent", 0}};
            sent = 0;
            fd = ::open(copy.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) throw_errno(ErrorKind::io, "cannot read back a big row for sending", errno);
        }
        const uint64_t size = rs.value("size", uint64_t(0));
        const uint64_t len = std::min<uint64_t>(size - sent, len_wanted);
        EntryInfo e;
        e.path = sql_slice_path(size, sent, name);
        e.type = EntryType::file;
        e.size = len;
        e.mode = 0644;
        e.mtime = mtime;
        w.begin_entry(e);
        copy_range(fd, sent, len, "row.sql", [&](const char* d, size_t n) { w.write_data(d, n); }, buf);
        w.end_entry();
        cursor["row_slice_parts"] = cursor.value("row_slice_parts", uint64_t(0)) + 1;
        if (sent + len < size) {
            rs["sent"] = sent + len;
            return len;
        }
        // The last slice: the manifest describes the whole chunk.
        EntryRecord r;
        r.path = "database/" + name;
        r.type = "file";
        r.size = size;
        r.mode = 0644;
        r.mtime = mtime;
        r.sha256 = rs.value("sha256", "");
        r.table = table;
        r.rows = rs.value("rows", uint64_t(0));
        r.checksum = rs.value("checksum", "");
        manifest.add(r);
        const auto key = rs.value("key", std::vector<std::string>{});
        const bool pk = rs.value("has_primary_key", false);
        cursor.erase("row_slices");
        advance_table(cursor, table, r.rows, 1, key, pk);
        return len;
    }

    // Adds entries of the file list from the cursor until the budget is used; false when the list is done.
    bool add_file_entries(ArchiveWriter& w, ManifestWriter& manifest, json& cursor, uint64_t budget, uint64_t& used,
                          SegmentInfo& info) {
        std::FILE* list = std::fopen(paths_->files.c_str(), "rb");
        if (!list) throw_errno(ErrorKind::io, "cannot read the file list", errno);
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> guard(list, std::fclose);
        uint64_t pos = cursor.value("file_pos", uint64_t(0));
        if (std::fseek(list, static_cast<long>(pos), SEEK_SET) != 0) throw_errno(ErrorKind::io, "cannot read the file list", errno);
        std::string line;
        std::vector<char> buf(kReadChunk);
        int root_fd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) throw_errno(ErrorKind::io, "cannot open the site root", errno);
        std::unique_ptr<int, void (*)(int*)> root_guard(&root_fd, [](int* fd) { ::close(*fd); });
        for (;;) {
            if (used >= budget) return true;
            line.clear();
            int c;
            while ((c = std::fgetc(list)) != EOF && c != '\n') line.push_back(static_cast<char>(c));
            if (line.empty()) return false;
            const uint64_t line_end = pos + line.size() + 1;
            json j = json::parse(line);
            std::string rel, target;
            base64_decode(j.value("p", ""), rel);
            const std::string kind = j.value("k", "f");
            EntryInfo e;
            e.path = "files/" + rel;
            e.mode = j.value("m", 0644u);
            e.mtime = j.value("t", int64_t(0));
            e.mtime_nsec = j.value("n", 0u);
            EntryRecord r;
            r.path = e.path;
            r.mode = e.mode;
            r.mtime = e.mtime;
            info.item = rel.substr(0, rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/'));
            if (kind == "d") {
                e.type = EntryType::directory;
                r.type = "dir";
                w.begin_entry(e);
                w.end_entry();
                manifest.add(r);
                used += 512;
            } else if (kind == "l") {
                base64_decode(j.value("l", ""), target);
                e.type = EntryType::symlink;
                e.link_target = target;
                r.type = "symlink";
                r.target = target;
                w.begin_entry(e);
                w.end_entry();
                manifest.add(r);
                used += 512;
            } else {
                uint64_t offset = cursor.value("file_offset", uint64_t(0));
                bool complete = add_file(w, manifest, cursor, root_fd, rel, e, r, offset, budget, used, buf);
                if (!complete) {
                    cursor["file_pos"] = pos;
                    cursor["file_offset"] = offset;
                    return true;
                }
                cursor["file_offset"] = 0;
            }
            pos = line_end;
            cursor["file_pos"] = pos;
        }
    }

    // One regular file: whole when it fits the segment (or is small), else the slice that fits from `offset`
    // (advanced). Returns true when the file is finished (or vanished).
    bool add_file(ArchiveWriter& w, ManifestWriter& manifest, json& cursor, int root_fd, const std::string& rel, EntryInfo& e,
                  EntryRecord& r, uint64_t& offset, uint64_t budget, uint64_t& used, std::vector<char>& buf) {
        int fd = ::openat(root_fd, rel.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
            if (errno == ENOENT) return true;
            if (errno == EACCES) {
                warn("skipped file '" + rel + "': permission denied");
                return true;
            }
            throw_errno(ErrorKind::io, "cannot open '" + rel + "'", errno);
        }
        std::unique_ptr<int, void (*)(int*)> guard(&fd, [](int* f) { ::close(*f); });
        struct stat st;
        if (::fstat(fd, &st) != 0) throw_errno(ErrorKind::io, "cannot stat '" + rel + "'", errno);
        if (!S_ISREG(st.st_mode)) {
            warn("skipped '" + rel + "': it changed type while the push ran");
            return true;
        }
        uint64_t size = static_cast<uint64_t>(st.st_size);
        e.type = EntryType::file;
        e.mode = st.st_mode & 07777;
        e.mtime = st.st_mtim.tv_sec;
        e.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
        r.type = "file";
        r.mode = e.mode;
        r.mtime = e.mtime;
        const uint64_t room = budget > used ? budget - used : 0;
        if (offset == 0 && (size <= room || size <= (256u << 10))) {
            e.size = size;
            r.size = size;
            w.begin_entry(e);
            Sha256 hash;
            copy_range(fd, 0, size, rel, [&](const char* d, size_t n) {
                hash.update(d, n);
                w.write_data(d, n);
            }, buf);
            w.end_entry();
            r.sha256 = hash.hex_digest();
            manifest.add(r);
            used += size + 512;
            return true;
        }
        // A slice. Its size is the file's size when the first slice was cut.
        if (room < (64u << 10) && used > 0) return false;  // start it in the next segment
        uint64_t total = offset == 0 ? size : cursor.value("file_size", size);
        cursor["file_size"] = total;
        uint64_t len = std::min<uint64_t>(total - offset, std::max<uint64_t>(room, 64u << 10));
        EntryInfo slice = e;
        slice.path = "chunks/" + std::to_string(total) + "/" + std::to_string(offset) + "/" + rel;
        slice.size = len;
        w.begin_entry(slice);
        copy_range(fd, offset, len, rel, [&](const char* d, size_t n) { w.write_data(d, n); }, buf);
        w.end_entry();
        used += len + 512;
        offset += len;
        if (offset < total) return false;
        // The last slice: the manifest describes the whole file as it was read, slice by slice.
        Sha256 hash;
        copy_range(fd, 0, total, rel, [&](const char* d, size_t n) { hash.update(d, n); }, buf);
        r.size = total;
        r.sha256 = hash.hex_digest();
        manifest.add(r);
        offset = 0;
        return true;
    }

    template <typename Fn>
    static void copy_range(int fd, uint64_t offset, uint64_t len, const std::string& rel, Fn sink, std::vector<char>& buf) {
        uint64_t at = offset;
        const uint64_t end = offset + len;
        while (at < end) {
            size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end - at));
            ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(at));
            if (n < 0) {
                if (errno == EINTR) continue;
                throw_errno(ErrorKind::io, "cannot read '" + rel + "'", errno);
            }
            if (n == 0) {  // shrank since it was listed: zeros keep the promised size
                std::fill(buf.begin(), buf.begin() + static_cast<long>(want), '\0');
                n = static_cast<ssize_t>(want);
            }
            sink(buf.data(), static_cast<size_t>(n));
            at += static_cast<uint64_t>(n);
        }
    }

    const PushOptions& opt_;
    std::string root_;
    std::unique_ptr<PushPaths> paths_;
    std::unique_ptr<FileLock> lock_;
    TokenInfo token_;
    std::string mac_, enc_;
    json st_;
    BuildInput* in_ = nullptr;     // the build in progress (on whichever thread runs it)
    std::future<Prepared> ahead_;  // the next segment, being made while the pending one travels
    std::string sealed_sha256_;  // the pending segment's SHA-256 (hex), when known
    uint64_t sealed_index_ = UINT64_MAX;  // the part sealed_sha256_ belongs to
    std::string sql_buffer_;          // a table chunk's SQL, while a segment is built
    // While prepare() makes a segment: the most rows a table chunk may take (lowered when the segment came
    // out too big), and the most any chunk of the attempt asked for.
    uint64_t row_cap_ = UINT64_MAX, rows_tried_ = 0;
    std::unique_ptr<Connection> conn_;
    Http http_;
    bool handshaken_ = false;
    bool accepted_ = false;  // the destination accepted a request signed with this token in this process
    ProgressFn progress_;
};

}  // namespace

json push_step(const PushOptions& options, double seconds) {
    return_large_blocks_to_the_system();
    PushJob job(options);
    job.open();
    try {
        job.step(seconds);
    } catch (const Transient& e) {
        job.note_retry(e.what());
    } catch (const Error& e) {
        job.fail(e.what(), true);
    }
    return public_state(job.state());
}

json push_run(const PushOptions& options, double retry_seconds) {
    return_large_blocks_to_the_system();
    PushJob job(options);
    job.open();
    job.set_progress(options.progress);
    double waited = 0, backoff = 1;
    while (!job.finished()) {
        try {
            job.step(3600);
            backoff = 1;
            waited = 0;
        } catch (const Transient& e) {
            if (waited >= retry_seconds) {
                job.fail(std::string(e.what()) + "; gave up after " + std::to_string(static_cast<int>(waited)) +
                             " s of retries (run the push again to resume)",
                         false);
                throw Error(ErrorKind::io, std::string(e.what()) + "; run the push again to resume");
            }
            job.note_retry(e.what());
            std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
            waited += backoff;
            backoff = std::min(backoff * 2, 30.0);
            job.reconnect();
        } catch (const Error& e) {
            job.fail(e.what(), true);
            throw;
        }
    }
    return public_state(job.state());
}

json push_state(const std::string& root) { return public_state(load_state(PushPaths(real_site_root(root)))); }

void push_cancel(const std::string& root) {
    PushPaths p(real_site_root(root));
    if (!exists_nofollow(p.dir)) return;
    FileLock lock(p.lock, "a push step is running right now; try again in a moment", true);
    json st = load_state(p);
    p.remove_work_files();
    if (st.empty()) return;
    st["phase"] = "cancelled";
    st["pending"] = nullptr;
    st["updated_at"] = now_s();
    write_file_atomic(p.state, st.dump(1) + "\n");
}

}  // namespace sitelift
