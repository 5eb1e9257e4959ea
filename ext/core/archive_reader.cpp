// ArchiveReader: tar (pax, ustar, GNU) in zstd, gzip or no compression, through libarchive, with limits.
//
// Only the tar format and the zstd and gzip filters are enabled: no other decoder (and no external helper
// program) ever sees hostile input. Every libarchive call that may convert names runs under the "C" locale
// (see archive_writer.cpp): names come back as the exact bytes stored, whatever the process locale is.
//
// Limits are checked after every header and every data block, including the data of entries the caller
// skips (next() drains it block by block instead of letting libarchive skip it in one go), so a
// decompression bomb is stopped after at most one block past the limit.
//
// libarchive accepts a tar stream that simply stops at a header boundary as a complete archive; we do not:
// the end-of-archive marker (at least one zero block) must be there, otherwise the archive is reported as
// truncated.
#include "archive.hpp"

#include "c_locale.hpp"
#include "error.hpp"
#include "path_safety.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <locale.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <vector>

namespace sitelift {

namespace {

constexpr size_t kInputChunkBytes = 64 * 1024;  // small reads keep the ratio window below precise


std::string quoted(std::string_view s) { return "'" + display_path(s) + "'"; }

}  // namespace

struct ArchiveReader::Impl {
    ReaderLimits limits;
    std::string name;  // for messages
    int fd = -1;
    ByteSource source;
    struct archive* a = nullptr;
    std::vector<char> buffer;
    uint64_t compressed = 0;
    std::exception_ptr input_error;  // thrown by the input callback
    std::exception_ptr failure;      // what stopped this reader
    bool input_ended = false;

    bool opened = false;
    bool at_end = false;
    bool in_entry = false;        // a header was returned and its data is not drained yet
    bool entry_is_file = false;
    uint64_t entry_size = 0;
    uint64_t delivered = 0;
    uint64_t entries = 0;
    std::string entry_path;       // last header returned, for messages

    ~Impl() {
        if (a != nullptr) archive_read_free(a);
        if (fd >= 0) ::close(fd);
    }

    static la_ssize_t read_cb(struct archive* ar, void* client, const void** out) {
        auto* self = static_cast<Impl*>(client);
        if (self->input_ended) {  // never ask the input again once it said "end"
            *out = self->buffer.data();
            return 0;
        }
        try {
            size_t n = 0;
            if (self->fd >= 0) {
                for (;;) {
                    ssize_t r = ::read(self->fd, self->buffer.data(), self->buffer.size());
                    if (r < 0) {
                        if (errno == EINTR) continue;
                        throw_errno(ErrorKind::io, "reading archive " + self->name, errno);
                    }
                    n = static_cast<size_t>(r);
                    break;
                }
            } else {
                n = self->source(self->buffer.data(), self->buffer.size());
                if (n > self->buffer.size())
                    throw Error(ErrorKind::usage, "archive input callback returned more bytes than asked for");
            }
            self->compressed += n;
            if (n == 0) self->input_ended = true;
            *out = self->buffer.data();
            return static_cast<la_ssize_t>(n);
        } catch (...) {
            self->input_error = std::current_exception();
            archive_set_error(ar, EIO, "archive input failed");
            return -1;
        }
    }

    void open() {
        buffer.resize(kInputChunkBytes);
        a = archive_read_new();
        if (a == nullptr) throw std::bad_alloc();
        CLocaleScope locale;
        if (archive_read_support_format_tar(a) != ARCHIVE_OK) fail("enabling the tar format");
        if (archive_read_support_filter_gzip(a) < ARCHIVE_WARN) fail("enabling gzip");
        if (archive_read_support_filter_zstd(a) < ARCHIVE_WARN) fail("enabling zstd");
        if (archive_read_open(a, this, nullptr, &Impl::read_cb, nullptr) != ARCHIVE_OK) fail("opening the input");
        opened = true;
    }

    // Throws for a failed libarchive call: the input's own error if it failed, otherwise Error(archive). All of
    // libarchive's messages about a stream that ends early ("Truncated tar archive", "truncated gzip input",
    // "Truncated zstd input", "Truncated input file ...") contain "runcated"; those get a "truncated:" prefix.
    [[noreturn]] void fail(const std::string& what) {
        if (input_error) std::rethrow_exception(input_error);
        const char* msg = a ? archive_error_string(a) : nullptr;
        std::string text = msg ? msg : "libarchive error";
        bool truncated = text.find("runcated") != std::string::npos;
        throw Error(ErrorKind::archive, "reading archive " + name + (truncated ? ": truncated: " : ": ") + what +
                                            ": " + text);
    }

    uint64_t uncompressed() const {
        if (a == nullptr || !opened) return 0;
        la_int64_t n = archive_filter_bytes(a, 0);
        return n > 0 ? static_cast<uint64_t>(n) : 0;
    }

    // The ratio is also checked over windows of kRatioWindow output bytes (after the grace), so a bomb inside a
    // large, ordinary archive is caught as well as one on its own. Input comes in kInputChunkBytes reads, so a
    // window can measure ratios up to kRatioWindow / kInputChunkBytes = 2048.
    static constexpr uint64_t kRatioWindow = 128ull << 20;
    uint64_t window_out = 0, window_in = 0;

    [[noreturn]] void bomb(uint64_t in, uint64_t out) const {
        throw Error(ErrorKind::security, "reading archive " + name + ": " + std::to_string(in) +
                                             " compressed bytes expand to " + std::to_string(out) + " (ratio limit " +
                                             std::to_string(static_cast<long long>(limits.max_ratio)) + ":1" +
                                             "); refusing a possible decompression bomb");
    }

    void check_limits(uint64_t pending = 0) {
        uint64_t out = uncompressed() + pending;
        if (limits.max_ratio > 0 && out >= limits.ratio_grace_bytes && window_out == 0) {
            window_out = out;  // the first window starts once the grace is used up
            window_in = compressed;
        } else if (limits.max_ratio > 0 && window_out > 0 && out - window_out >= kRatioWindow) {
            uint64_t in = compressed - window_in;
            if (static_cast<double>(out - window_out) > limits.max_ratio * static_cast<double>(in > 0 ? in : 1))
                bomb(in, out - window_out);
            window_out = out;
            window_in = compressed;
        }
        if (out > limits.max_total_bytes)
            throw Error(ErrorKind::security, "reading archive " + name + ": it expands to more than " +
                                                 std::to_string(limits.max_total_bytes) + " bytes (the limit)");
        if (limits.max_ratio > 0 && out > limits.ratio_grace_bytes) {
            uint64_t in = compressed > 0 ? compressed : 1;
            if (static_cast<double>(out) > limits.max_ratio * static_cast<double>(in)) bomb(in, out);
        }
    }

    // Consumes what is left of the current entry's data, checking limits block by block.
    void drain() {
        if (!in_entry) return;
        for (;;) {
            const void* block = nullptr;
            size_t size = 0;
            la_int64_t offset = 0;
            int r = archive_read_data_block(a, &block, &size, &offset);
            if (r == ARCHIVE_EOF) break;
            if (r != ARCHIVE_OK && r != ARCHIVE_WARN) fail("reading the data of " + quoted(entry_path));
            check_limits(size);
        }
        in_entry = false;
        check_limits();
    }

    bool next(EntryInfo& out) {
        if (at_end) return false;
        CLocaleScope locale;
        drain();
        uint64_t before = uncompressed();
        struct archive_entry* e = nullptr;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) {
            if (uncompressed() < before + 512) {
                if (entries == 0)
                    throw Error(ErrorKind::archive, "reading archive " + name + ": empty input, not a tar archive");
                throw Error(ErrorKind::archive, "reading archive " + name + ": truncated: it ends after " +
                                                    quoted(entry_path) + " without the end-of-archive marker");
            }
            at_end = true;
            check_limits();
            return false;
        }
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            fail(entries == 0 ? std::string("reading the first header")
                              : "reading the header after " + quoted(entry_path));
        }
        ++entries;
        if (entries > limits.max_entries)
            throw Error(ErrorKind::security, "reading archive " + name + ": more than " +
                                                 std::to_string(limits.max_entries) + " entries (the limit)");

        const char* p = archive_entry_pathname(e);
        if (p == nullptr) p = archive_entry_pathname_utf8(e);
        if (p == nullptr || *p == '\0')
            throw Error(ErrorKind::archive, "reading archive " + name + ": entry " + std::to_string(entries) +
                                                " has no usable path");
        EntryInfo info;
        info.path = p;
        if (info.path.size() > limits.max_path_bytes)
            throw Error(ErrorKind::security, "reading archive " + name + ": entry path longer than " +
                                                 std::to_string(limits.max_path_bytes) + " bytes: " + quoted(info.path));

        const char* hard = archive_entry_hardlink(e);
        if (hard == nullptr) hard = archive_entry_hardlink_utf8(e);
        mode_t type = archive_entry_filetype(e);
        if (hard != nullptr) {
            info.type = EntryType::hardlink;
            info.link_target = hard;
        } else if (type == AE_IFREG) {
            info.type = EntryType::file;
        } else if (type == AE_IFDIR) {
            info.type = EntryType::directory;
        } else if (type == AE_IFLNK) {
            info.type = EntryType::symlink;
            const char* t = archive_entry_symlink(e);
            if (t == nullptr) t = archive_entry_symlink_utf8(e);
            if (t == nullptr)
                throw Error(ErrorKind::archive, "reading archive " + name + ": symlink " + quoted(info.path) +
                                                    " has no usable target");
            info.link_target = t;
        } else {
            info.type = EntryType::other;
        }
        if (info.link_target.size() > limits.max_path_bytes)
            throw Error(ErrorKind::security, "reading archive " + name + ": link target of " + quoted(info.path) +
                                                 " longer than " + std::to_string(limits.max_path_bytes) + " bytes");
        if (info.type == EntryType::directory && info.path.size() > 1 && info.path.back() == '/') info.path.pop_back();

        if (info.type == EntryType::file) {
            la_int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
            if (size < 0)
                throw Error(ErrorKind::archive, "reading archive " + name + ": negative size for " + quoted(info.path));
            info.size = static_cast<uint64_t>(size);
        }
        info.mode = static_cast<uint32_t>(archive_entry_perm(e)) & 07777;
        info.mtime = static_cast<int64_t>(archive_entry_mtime(e));
        long nsec = archive_entry_mtime_nsec(e);
        info.mtime_nsec = nsec > 0 && nsec < 1000000000L ? static_cast<uint32_t>(nsec) : 0;

        // Refuse up front an entry whose declared size alone breaks the total limit.
        if (info.size > limits.max_total_bytes || uncompressed() > limits.max_total_bytes - info.size)
            throw Error(ErrorKind::security, "reading archive " + name + ": entry " + quoted(info.path) + " (" +
                                                 std::to_string(info.size) + " bytes) exceeds the limit of " +
                                                 std::to_string(limits.max_total_bytes) + " bytes in total");
        check_limits();

        entry_path = info.path;
        in_entry = true;
        entry_is_file = info.type == EntryType::file;
        entry_size = info.size;
        delivered = 0;
        out = std::move(info);
        return true;
    }

    size_t read(void* buf, size_t cap) {
        if (!in_entry || !entry_is_file || cap == 0 || delivered >= entry_size) return 0;
        la_ssize_t n = archive_read_data(a, buf, cap);
        if (n < 0)
            fail("reading the data of " + quoted(entry_path) + " after " + std::to_string(delivered) + " of " +
                 std::to_string(entry_size) + " bytes");
        if (n == 0)
            throw Error(ErrorKind::archive, "reading archive " + name + ": truncated: " + quoted(entry_path) +
                                                " ended after " + std::to_string(delivered) + " of " +
                                                std::to_string(entry_size) + " bytes");
        delivered += static_cast<uint64_t>(n);
        if (delivered > entry_size)
            throw Error(ErrorKind::archive, "reading archive " + name + ": " + quoted(entry_path) +
                                                " has more data than its declared size");
        check_limits();
        return static_cast<size_t>(n);
    }

    template <class F>
    auto guarded(F&& f) -> decltype(f()) {
        if (failure) std::rethrow_exception(failure);
        try {
            return f();
        } catch (...) {
            failure = std::current_exception();
            throw;
        }
    }
};

ArchiveReader::ArchiveReader(const std::string& path, const ReaderLimits& limits) : impl_(new Impl) {
    impl_->limits = limits;
    impl_->name = quoted(path);
    impl_->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (impl_->fd < 0) throw_errno(ErrorKind::io, "opening archive " + quoted(path), errno);
    impl_->open();
}

ArchiveReader::ArchiveReader(ByteSource source, const ReaderLimits& limits) : impl_(new Impl) {
    if (!source) throw Error(ErrorKind::usage, "ArchiveReader: empty input callback");
    impl_->limits = limits;
    impl_->name = "stream";
    impl_->source = std::move(source);
    impl_->open();
}

ArchiveReader::~ArchiveReader() = default;

bool ArchiveReader::next(EntryInfo& out) {
    return impl_->guarded([&] { return impl_->next(out); });
}

size_t ArchiveReader::read(void* buf, size_t cap) {
    return impl_->guarded([&] { return impl_->read(buf, cap); });
}

uint64_t ArchiveReader::compressed_bytes() const { return impl_->compressed; }

uint64_t ArchiveReader::uncompressed_bytes() const { return impl_->uncompressed(); }

}  // namespace sitelift
