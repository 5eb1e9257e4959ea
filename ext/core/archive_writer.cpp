// ArchiveWriter: POSIX pax tar through libarchive, optionally on a background thread.
//
// Threading: with background=true the caller's thread only validates calls and copies data into operations
// ("ops") that go through a queue bounded to kQueueBytes (8 MiB of data, plus 512 bytes accounted per op, so
// floods of tiny entries are bounded too). Data is coalesced into chunks of up to 1 MiB; a small file travels
// as a single op (header + data + end); 1 MiB buffers are recycled. One worker thread owns every libarchive
// call after construction: tar framing, compression and output. To avoid a context switch per small file, an
// idle worker is woken only once 256 KiB are queued (or at close), and a caller blocked on a full queue only
// once it has drained to half. A failure on the worker is kept and rethrown by the next public call, or by
// close(). Setup (format, filter and options) happens in the constructor, on the caller's thread and before
// the worker starts, so bad options throw right away. Inline mode (background=false) makes the same libarchive
// calls directly, without copying.
//
// File names: libarchive converts names from the current locale's character set to UTF-8 for pax headers, and
// that conversion rewrites some byte sequences (CESU-8 pairs under a UTF-8 locale, everything non-ASCII under
// Latin-1). Every libarchive call here runs under the "C" locale (uselocale, per thread, restored afterwards),
// where that conversion fails for any byte >= 0x80; the pax writer then stores the name's exact bytes and marks
// the header "hdrcharset=BINARY". ASCII names are unaffected. Result: names round-trip byte for byte whatever
// the process locale is. GNU tar (which does not know hdrcharset) prints "Ignoring unknown extended header
// keyword 'hdrcharset'" for such entries and still extracts the exact bytes. (Switching to a UTF-8 locale per
// header does not work: libarchive caches its name conversion with the locale of the first header.)
//
// Format: full pax interchange (archive_write_set_format_pax) rather than "pax restricted": the restricted
// variant drops sub-second mtimes unless another pax attribute forces an extended header. For our entries the
// only difference is that an "mtime=<sec>.<nsec>" attribute is written when nsec != 0.
#include "archive.hpp"

#include "c_locale.hpp"
#include "error.hpp"
#include "path_safety.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace sitelift {

Compression parse_compression(std::string_view name) {
    if (name == "none") return Compression::none;
    if (name == "gzip") return Compression::gzip;
    if (name == "zstd") return Compression::zstd;
    throw Error(ErrorKind::usage, "unknown compression '" + display_path(name) + "' (expected none, gzip or zstd)");
}

const char* compression_name(Compression c) {
    switch (c) {
        case Compression::none: return "none";
        case Compression::gzip: return "gzip";
        case Compression::zstd: return "zstd";
    }
    return "unknown";
}

namespace {

constexpr size_t kChunkBytes = 1u << 20;            // data per queued op
constexpr size_t kQueueBytes = 8 * kChunkBytes;     // bound on queued data
constexpr size_t kOpOverhead = 512;                 // accounted per op, so many tiny entries are bounded too
constexpr size_t kSpareChunks = 4;                  // recycled chunk buffers kept around
constexpr size_t kWakeBytes = 256 * 1024;           // queued amount that wakes an idle worker
constexpr int kOutputBlockBytes = 128 * 1024;       // libarchive hands us output in blocks of this size


std::string quoted(std::string_view s) { return "'" + display_path(s) + "'"; }

[[noreturn]] void usage(const std::string& message) { throw Error(ErrorKind::usage, message); }

struct Op {
    bool begin = false;
    EntryInfo info;          // when begin
    std::vector<char> data;  // entry data following the header (if any)
    bool end = false;        // finish the entry after the data
    bool close = false;      // finish the archive
    size_t cost = 0;         // queue accounting, fixed when queued
};

}  // namespace

struct ArchiveWriter::Impl {
    enum class State { idle, in_file, in_other, closed, failed };

    WriterOptions opts;
    std::string path;  // output file, or empty for a sink
    std::string name;  // for messages
    int fd = -1;
    ByteSink sink;
    struct archive* a = nullptr;
    struct archive_entry* entry = nullptr;
    std::atomic<uint64_t> out_bytes{0};
    std::atomic<bool> abandoned{false};
    bool opened = false;              // archive_write_open succeeded
    bool close_called = false;        // archive_write_close was called (by whichever thread ran libarchive)
    std::exception_ptr output_error;  // thrown by the output; touched only by the thread running libarchive

    // Caller's side.
    State state = State::idle;
    uint64_t declared = 0;
    uint64_t written = 0;
    std::string entry_path;
    std::exception_ptr failure;
    std::unique_ptr<Op> building;

    // Worker.
    std::thread worker;
    std::mutex mu;
    std::condition_variable cv_work;   // worker waits for ops
    std::condition_variable cv_space;  // caller waits for room / completion
    std::deque<std::unique_ptr<Op>> queue;
    size_t queued = 0;
    std::vector<std::vector<char>> spare;  // recycled 1 MiB data buffers (no page faults, no malloc churn)
    bool worker_waiting = false;           // notify only a thread that actually waits
    bool caller_waiting = false;
    bool stop = false;
    bool worker_failed = false;
    bool worker_done = false;
    std::exception_ptr worker_error;

    ~Impl() {
        if (worker.joinable()) {
            abandoned = true;
            {
                std::lock_guard<std::mutex> lk(mu);
                stop = true;
            }
            cv_work.notify_all();
            worker.join();
        }
        if (a != nullptr) {
            if (opened && !close_called) {
                // Abandon: the output refuses everything from now on, so the archive stays visibly incomplete.
                // archive_write_fail first, so that close does not pad the open entry with zeros (that could
                // mean compressing gigabytes of them); archive_write_close is still needed because libarchive
                // 3.6 frees its output block buffer only there (fail + free alone leaks it). Never twice.
                abandoned = true;
                close_called = true;
                CLocaleScope locale;
                (void)archive_write_fail(a);
                (void)archive_write_close(a);
            }
            archive_write_free(a);
        }
        if (entry != nullptr) archive_entry_free(entry);
        if (fd >= 0) ::close(fd);
    }

    // ---- libarchive side (inline, or on the worker) ----

    static la_ssize_t write_cb(struct archive* ar, void* client, const void* buf, size_t len) {
        auto* self = static_cast<Impl*>(client);
        if (self->abandoned) {
            archive_set_error(ar, ECANCELED, "archive abandoned");
            return -1;
        }
        try {
            if (self->fd >= 0) {
                const char* p = static_cast<const char*>(buf);
                size_t left = len;
                while (left > 0) {
                    ssize_t n = ::write(self->fd, p, left);
                    if (n < 0) {
                        if (errno == EINTR) continue;
                        throw_errno(ErrorKind::io, "writing archive " + quoted(self->path), errno);
                    }
                    p += n;
                    left -= static_cast<size_t>(n);
                }
            } else {
                self->sink(buf, len);
            }
        } catch (...) {
            self->output_error = std::current_exception();
            archive_set_error(ar, EIO, "archive output failed");
            return -1;
        }
        self->out_bytes.fetch_add(len, std::memory_order_relaxed);
        return static_cast<la_ssize_t>(len);
    }

    // Throws for a failed libarchive call (ARCHIVE_WARN is fine: it reports a name stored in binary mode).
    void check(int r, const std::string& what) {
        if (r == ARCHIVE_OK || r == ARCHIVE_WARN) return;
        fail_archive(what);
    }

    [[noreturn]] void fail_archive(const std::string& what) {
        if (output_error) std::rethrow_exception(output_error);
        const char* msg = archive_error_string(a);
        throw Error(ErrorKind::io, "writing archive " + name + ": " + what + ": " + (msg ? msg : "libarchive error"));
    }

    void setup() {
        a = archive_write_new();
        entry = archive_entry_new();
        if (a == nullptr || entry == nullptr) throw std::bad_alloc();
        check(archive_write_set_format_pax(a), "selecting the pax format");
        std::string level;
        switch (opts.compression) {
            case Compression::none:
                check(archive_write_add_filter_none(a), "selecting no compression");
                break;
            case Compression::gzip: {
                int lv = opts.level == 0 ? 1 : opts.level;
                if (lv < 1 || lv > 9) usage("gzip level must be between 1 and 9, not " + std::to_string(opts.level));
                check(archive_write_add_filter_gzip(a), "selecting gzip");
                level = std::to_string(lv);
                check(archive_write_set_filter_option(a, "gzip", "compression-level", level.c_str()),
                      "setting the gzip level");
                break;
            }
            case Compression::zstd: {
                int lv = opts.level == 0 ? 1 : opts.level;
                if (lv < kZstdFastest || lv > 22)
                    usage("zstd level must be between " + std::to_string(kZstdFastest) + " and 22, not " +
                          std::to_string(opts.level));
                if (opts.threads < 0) usage("zstd threads must not be negative");
                check(archive_write_add_filter_zstd(a), "selecting zstd");
                level = std::to_string(lv);
                check(archive_write_set_filter_option(a, "zstd", "compression-level", level.c_str()),
                      "setting the zstd level");
                int threads = opts.threads;
                if (threads == 0) {
                    // The caller's thread is busy reading and hashing: leave it a core. On two cores extra zstd
                    // workers only compete with it (measured: slower, and ~10 MB more memory).
                    unsigned hc = std::thread::hardware_concurrency();
                    threads = static_cast<int>(std::min(std::max(hc, 2u) - 1, 4u));
                }
                if (threads != 1) {
                    std::string t = std::to_string(threads);
                    int r = archive_write_set_filter_option(a, "zstd", "threads", t.c_str());
                    // ARCHIVE_WARN: this libarchive has no "threads" option; compress on one thread then.
                    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) fail_archive("setting zstd threads to " + t);
                }
                break;
            }
        }
        check(archive_write_set_bytes_per_block(a, kOutputBlockBytes), "setting the block size");
        check(archive_write_set_bytes_in_last_block(a, 1), "setting the last block size");
        check(archive_write_open(a, this, nullptr, &Impl::write_cb, nullptr), "opening the output");
        opened = true;
    }

    void do_begin(const EntryInfo& info) {
        archive_entry_clear(entry);
        archive_entry_copy_pathname(entry, info.path.c_str());
        switch (info.type) {
            case EntryType::file:
                archive_entry_set_filetype(entry, AE_IFREG);
                archive_entry_set_size(entry, static_cast<la_int64_t>(info.size));
                break;
            case EntryType::directory:
                archive_entry_set_filetype(entry, AE_IFDIR);
                archive_entry_set_size(entry, 0);
                break;
            case EntryType::symlink:
                archive_entry_set_filetype(entry, AE_IFLNK);
                archive_entry_copy_symlink(entry, info.link_target.c_str());
                archive_entry_set_size(entry, 0);
                break;
            case EntryType::hardlink:
                archive_entry_set_filetype(entry, AE_IFREG);
                archive_entry_copy_hardlink(entry, info.link_target.c_str());
                archive_entry_set_size(entry, 0);
                break;
            case EntryType::other:
                usage("cannot write entries of type 'other'");
        }
        archive_entry_set_perm(entry, static_cast<mode_t>(info.mode & 07777));
        archive_entry_set_mtime(entry, static_cast<time_t>(info.mtime), static_cast<long>(info.mtime_nsec));
        archive_entry_set_uid(entry, 0);
        archive_entry_set_gid(entry, 0);
        check(archive_write_header(a, entry), "writing the header of " + quoted(info.path));
    }

    void do_data(const char* p, size_t len, const std::string& what) {
        while (len > 0) {
            la_ssize_t n = archive_write_data(a, p, len);
            if (n < 0) fail_archive("writing the data of " + quoted(what));
            if (n == 0) throw Error(ErrorKind::io, "writing archive " + name + ": libarchive accepted no data for " + quoted(what));
            p += n;
            len -= static_cast<size_t>(n);
        }
    }

    void do_end(const std::string& what) { check(archive_write_finish_entry(a), "finishing " + quoted(what)); }

    void do_close() {
        close_called = true;
        check(archive_write_close(a), "finishing the archive");
        if (fd >= 0) {
            // No fsync: like tar, the archive is left to the page cache. Errors the kernel already knows of
            // (a full disk) surface through write() or close(); an importer verifies every byte anyway.
            int r = ::close(fd);
            fd = -1;
            if (r != 0 && errno != EINTR) throw_errno(ErrorKind::io, "closing archive " + quoted(path), errno);
        }
    }

    std::string op_path;  // worker: path of the entry being written, for messages

    void execute(Op& op) {
        if (op.begin) {
            op_path = op.info.path;
            do_begin(op.info);
        }
        if (!op.data.empty()) do_data(op.data.data(), op.data.size(), op_path);
        if (op.end) do_end(op_path);
        if (op.close) do_close();
    }

    void worker_main() {
        CLocaleScope locale;
        std::deque<std::unique_ptr<Op>> batch;
        for (;;) {
            {
                std::unique_lock<std::mutex> lk(mu);
                while (!stop && queue.empty()) {
                    worker_waiting = true;
                    cv_work.wait(lk);
                    worker_waiting = false;
                }
                if (stop) return;
                batch.swap(queue);
            }
            while (!batch.empty()) {
                std::unique_ptr<Op> op = std::move(batch.front());
                batch.pop_front();
                if (!worker_failed) {
                    try {
                        execute(*op);
                    } catch (...) {
                        std::lock_guard<std::mutex> lk(mu);
                        worker_error = std::current_exception();
                        worker_failed = true;
                    }
                }
                const bool is_close = op->close;
                bool wake;
                bool stopping;
                {
                    std::lock_guard<std::mutex> lk(mu);
                    queued -= op->cost;
                    if (op->data.capacity() == kChunkBytes && spare.size() < kSpareChunks) {
                        op->data.clear();
                        spare.push_back(std::move(op->data));
                    }
                    if (is_close) worker_done = true;
                    // A caller blocked on a full queue is woken once half of it has drained, not per op.
                    wake = (caller_waiting && queued <= kQueueBytes / 2) || is_close || worker_failed;
                    stopping = stop;
                }
                op.reset();
                if (wake) cv_space.notify_all();
                if (is_close || stopping) return;
            }
        }
    }

    // ---- caller's side ----

    bool background() const { return opts.background; }

    // Throws the failure that stopped this writer, if any.
    void ensure_usable() {
        if (state == State::failed) std::rethrow_exception(failure);
        if (state == State::closed) usage("the archive writer is already closed");
        if (background()) {
            std::exception_ptr e;
            {
                std::lock_guard<std::mutex> lk(mu);
                if (worker_failed) e = worker_error;
            }
            if (e) std::rethrow_exception(e);
        }
    }

    void push(std::unique_ptr<Op> op) {
        op->cost = op->data.size() + op->info.path.size() + op->info.link_target.size() + kOpOverhead;
        std::unique_lock<std::mutex> lk(mu);
        while (!(worker_failed || queued == 0 || queued + op->cost <= kQueueBytes)) {
            caller_waiting = true;
            cv_space.wait(lk);
            caller_waiting = false;
        }
        if (worker_failed) std::rethrow_exception(worker_error);
        queued += op->cost;
        // Wake an idle worker only once there is a batch worth a context switch (or the archive is ending):
        // many small files otherwise cost one wake-up each.
        const bool wake = worker_waiting && (queued >= kWakeBytes || op->close);
        queue.push_back(std::move(op));
        lk.unlock();
        if (wake) cv_work.notify_one();
    }

    // A data buffer for the next chunk: a recycled 1 MiB one when the entry has that much left.
    std::vector<char> chunk_buffer(uint64_t remaining) {
        std::vector<char> buf;
        if (remaining >= kChunkBytes) {
            std::lock_guard<std::mutex> lk(mu);
            if (!spare.empty()) {
                buf = std::move(spare.back());
                spare.pop_back();
            }
        }
        if (buf.capacity() == 0) buf.reserve(static_cast<size_t>(std::min<uint64_t>(remaining, kChunkBytes)));
        return buf;
    }

    // Runs f; any exception marks the writer as failed before it propagates.
    template <class F>
    void guarded(F&& f) {
        try {
            f();
        } catch (...) {
            if (state != State::closed && state != State::failed) {
                state = State::failed;
                failure = std::current_exception();
            }
            throw;
        }
    }
};

ArchiveWriter::ArchiveWriter(const std::string& path, const WriterOptions& options) : impl_(new Impl) {
    impl_->opts = options;
    impl_->path = path;
    impl_->name = quoted(path);
    impl_->fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (impl_->fd < 0) throw_errno(ErrorKind::io, "creating archive " + quoted(path), errno);
    {
        CLocaleScope locale;
        impl_->setup();
    }
    if (options.background) impl_->worker = std::thread([p = impl_.get()] { p->worker_main(); });
}

ArchiveWriter::ArchiveWriter(ByteSink sink, const WriterOptions& options) : impl_(new Impl) {
    if (!sink) usage("ArchiveWriter: empty output callback");
    impl_->opts = options;
    impl_->sink = std::move(sink);
    impl_->name = "stream";
    {
        CLocaleScope locale;
        impl_->setup();
    }
    if (options.background) impl_->worker = std::thread([p = impl_.get()] { p->worker_main(); });
}

ArchiveWriter::~ArchiveWriter() = default;

void ArchiveWriter::begin_entry(const EntryInfo& info) {
    Impl& m = *impl_;
    m.guarded([&] {
        m.ensure_usable();
        if (m.state != Impl::State::idle) usage("begin_entry(" + quoted(info.path) + "): entry " + quoted(m.entry_path) + " is still open");
        if (info.path.empty()) usage("begin_entry: empty path");
        if (info.path.find('\0') != std::string::npos) usage("begin_entry: path contains a NUL byte: " + quoted(info.path));
        if (info.mtime_nsec >= 1000000000u) usage("begin_entry(" + quoted(info.path) + "): mtime_nsec out of range");
        bool is_link = info.type == EntryType::symlink || info.type == EntryType::hardlink;
        if (is_link && info.link_target.empty()) usage("begin_entry(" + quoted(info.path) + "): empty link target");
        if (info.link_target.find('\0') != std::string::npos)
            usage("begin_entry(" + quoted(info.path) + "): link target contains a NUL byte");
        if (info.type == EntryType::other) usage("begin_entry(" + quoted(info.path) + "): cannot write entries of type 'other'");
        if (info.type != EntryType::file && info.size != 0)
            usage("begin_entry(" + quoted(info.path) + "): only regular files have a size");
        if (info.size > static_cast<uint64_t>(INT64_MAX)) usage("begin_entry(" + quoted(info.path) + "): size out of range");

        if (m.background()) {
            auto op = std::make_unique<Op>();
            op->begin = true;
            op->info = info;
            if (info.type == EntryType::file && info.size > 0) op->data = m.chunk_buffer(info.size);
            m.building = std::move(op);
        } else {
            CLocaleScope locale;
            m.do_begin(info);
        }
        m.state = info.type == EntryType::file ? Impl::State::in_file : Impl::State::in_other;
        m.declared = info.type == EntryType::file ? info.size : 0;
        m.written = 0;
        m.entry_path = info.path;
    });
}

void ArchiveWriter::write_data(const void* data, size_t len) {
    Impl& m = *impl_;
    m.guarded([&] {
        m.ensure_usable();
        if (len == 0) return;
        if (m.state != Impl::State::in_file) usage("write_data outside a regular file entry");
        if (len > m.declared - m.written)
            usage("write_data: more data than the " + std::to_string(m.declared) + " bytes declared for " + quoted(m.entry_path));
        const char* p = static_cast<const char*>(data);
        if (!m.background()) {
            m.do_data(p, len, m.entry_path);
            m.written += len;
            return;
        }
        while (len > 0) {
            if (!m.building) {
                m.building = std::make_unique<Op>();
                m.building->data = m.chunk_buffer(m.declared - m.written);
            }
            std::vector<char>& buf = m.building->data;
            size_t n = std::min(len, kChunkBytes - std::min(buf.size(), kChunkBytes));
            buf.insert(buf.end(), p, p + n);
            p += n;
            len -= n;
            m.written += n;
            if (buf.size() >= kChunkBytes) m.push(std::move(m.building));
        }
    });
}

void ArchiveWriter::end_entry() {
    Impl& m = *impl_;
    m.guarded([&] {
        m.ensure_usable();
        if (m.state != Impl::State::in_file && m.state != Impl::State::in_other) usage("end_entry without begin_entry");
        if (m.state == Impl::State::in_file && m.written != m.declared)
            usage("end_entry: " + quoted(m.entry_path) + " got " + std::to_string(m.written) + " of its " +
                  std::to_string(m.declared) + " declared bytes");
        if (m.background()) {
            if (!m.building) m.building = std::make_unique<Op>();
            m.building->end = true;
            m.push(std::move(m.building));
        } else {
            m.do_end(m.entry_path);
        }
        m.state = Impl::State::idle;
    });
}

void ArchiveWriter::add_file(const std::string& path, std::string_view content, uint32_t mode, int64_t mtime) {
    EntryInfo info;
    info.path = path;
    info.type = EntryType::file;
    info.size = content.size();
    info.mode = mode;
    info.mtime = mtime;
    begin_entry(info);
    write_data(content.data(), content.size());
    end_entry();
}

void ArchiveWriter::close() {
    Impl& m = *impl_;
    if (m.state == Impl::State::closed) return;
    m.guarded([&] {
        m.ensure_usable();
        if (m.state != Impl::State::idle) usage("close: entry " + quoted(m.entry_path) + " is still open");
        if (m.background()) {
            auto op = std::make_unique<Op>();
            op->close = true;
            m.push(std::move(op));
            {
                std::unique_lock<std::mutex> lk(m.mu);
                m.cv_space.wait(lk, [&] { return m.worker_done; });
            }
            m.worker.join();
            if (m.worker_error) std::rethrow_exception(m.worker_error);
        } else {
            CLocaleScope locale;
            m.do_close();
        }
        m.state = Impl::State::closed;
    });
}

uint64_t ArchiveWriter::compressed_bytes() const { return impl_->out_bytes.load(std::memory_order_relaxed); }

}  // namespace sitelift
