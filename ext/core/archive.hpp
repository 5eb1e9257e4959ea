// Streaming tar archives (POSIX pax) through libarchive, compressed with zstd, gzip or nothing.
//
// ArchiveWriter hands the libarchive work (tar framing, compression, output) to a background thread, so the
// caller's reading and hashing overlap with compression and writing. Memory is bounded by a small queue.
// ArchiveReader reads tar streams in any of the three compressions and enforces limits against hostile input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sitelift {

enum class Compression { none, gzip, zstd };

// "none" | "gzip" | "zstd"; throws Error(usage) otherwise.
Compression parse_compression(std::string_view name);
const char* compression_name(Compression c);

enum class EntryType { file, directory, symlink, hardlink, other };

struct EntryInfo {
    std::string path;         // relative, '/'-separated, no leading '/', no trailing '/'
    EntryType type = EntryType::file;
    uint64_t size = 0;        // regular files only; 0 otherwise
    uint32_t mode = 0644;     // permission bits only (07777)
    int64_t mtime = 0;        // seconds since the epoch
    uint32_t mtime_nsec = 0;
    std::string link_target;  // symlink / hardlink target, as stored
};

// Receives compressed archive bytes, in order. Throwing from it aborts the writer.
// With WriterOptions::background the sink is called on the writer's background thread (one call at a time),
// so it must not touch PHP/Zend state or anything else tied to the caller's thread; use background=false for
// such sinks.
using ByteSink = std::function<void(const void* data, size_t len)>;
// Fills buf with up to cap bytes of the compressed archive; returns 0 at the end of the stream.
using ByteSource = std::function<size_t(void* buf, size_t cap)>;

constexpr int kZstdFastest = -50;

struct WriterOptions {
    Compression compression = Compression::zstd;
    // 0: the compression's default (zstd 1, gzip 1). zstd also takes its fast levels, -1 to kZstdFastest
    // (`zstd --fast=N` is level -N): less CPU, a little less compression.
    int level = 0;
    int threads = 0;        // zstd worker threads; 0: automatic (number of cores, at most 4)
    bool background = true; // run libarchive on a background thread
};

// Format details: full POSIX pax interchange format (archive_write_set_format_pax; "restricted" pax would drop
// sub-second mtimes). A pax extended header is written only when needed: long or non-ASCII names, sizes of
// 8 GiB and more, mtimes with nanoseconds. Names and link targets are stored byte for byte whatever the process
// locale; a name with any byte >= 0x80 gets "hdrcharset=BINARY" (GNU tar ignores that keyword with a warning
// and extracts the same bytes). uid/gid are 0 and no user or group names are stored. Files are created with
// mode 0600 and fsync'ed by close(). The destructor of an unclosed writer stops output at once, so the
// partial archive stays visibly truncated; the file is left in place for the caller to remove.
class ArchiveWriter {
public:
    // Creates (or truncates) the file at path.
    ArchiveWriter(const std::string& path, const WriterOptions& options);
    ArchiveWriter(ByteSink sink, const WriterOptions& options);
    ~ArchiveWriter();  // abandons an unclosed archive without throwing
    ArchiveWriter(const ArchiveWriter&) = delete;
    ArchiveWriter& operator=(const ArchiveWriter&) = delete;

    // Starts an entry. For a regular file exactly info.size bytes must follow through write_data.
    void begin_entry(const EntryInfo& info);
    void write_data(const void* data, size_t len);
    void end_entry();
    // Convenience: a whole in-memory regular file.
    void add_file(const std::string& path, std::string_view content, uint32_t mode, int64_t mtime);

    // Writes the end-of-archive marker and flushes everything; rethrows any background failure.
    void close();

    uint64_t compressed_bytes() const;  // bytes handed to the output so far

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct ReaderLimits {
    uint64_t max_total_bytes = UINT64_MAX;  // uncompressed bytes in the whole stream
    uint64_t max_entries = 50'000'000;
    size_t max_path_bytes = 4096;
    // Decompression-bomb guard: once more than ratio_grace_bytes came out, refuse if
    // uncompressed / compressed exceeds max_ratio. 0 disables.
    double max_ratio = 1000.0;
    uint64_t ratio_grace_bytes = 64ull << 20;
};

// Only tar (pax, ustar, GNU) with zstd, gzip or no compression is accepted. Names come back as the exact bytes
// stored, whatever the process locale. A stream that stops without the end-of-archive marker is truncated
// (Error(archive)), even at an entry boundary; anything after the marker is ignored. Data of entries the caller
// does not read is drained by next() under the same limits.
class ArchiveReader {
public:
    ArchiveReader(const std::string& path, const ReaderLimits& limits = {});
    ArchiveReader(ByteSource source, const ReaderLimits& limits = {});
    ~ArchiveReader();
    ArchiveReader(const ArchiveReader&) = delete;
    ArchiveReader& operator=(const ArchiveReader&) = delete;

    // Next entry header; false at the clean end of the archive. Throws Error(archive) on a truncated or
    // corrupt stream and Error(security) when a limit is exceeded. Paths come back as stored (not validated).
    bool next(EntryInfo& out);
    // Data of the current entry; returns 0 at its end (and for entries that are not regular files). A stream
    // that ends before the declared size is Error(archive) with "truncated" in the message.
    size_t read(void* buf, size_t cap);

    uint64_t compressed_bytes() const;
    uint64_t uncompressed_bytes() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sitelift
