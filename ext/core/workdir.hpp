// SiteLift's work folder inside a site root (<root>/.sitelift) and the small file helpers around it.
#pragma once

#include <cstddef>
#include <string>

#include <sys/types.h>

namespace sitelift {

bool exists_nofollow(const std::string& path);
void make_dir(const std::string& path, mode_t mode);  // an existing folder is fine
// Writes content to path + ".tmp" (mode 0600), fsyncs it (unless !durable: then a killed process still leaves
// the old or the new file, but a power cut may leave neither) and renames it over path.
void write_file_atomic(const std::string& path, const std::string& content, bool durable = true);
void do_rename(const std::string& from, const std::string& to);
// Creates the work folder (0700) with an .htaccess that denies web access and an empty index.php.
void ensure_work_dir(const std::string& work);

// Makes the C allocator hand large blocks (1 MiB and more) straight back to the system when freed. glibc
// otherwise raises its mmap threshold to the largest block freed so far (up to 32 MiB), after which the
// multi-MB buffers of a push or a received part, made and freed on two threads, stay in its heaps as free
// space (measured: ~18 MB of a push's peak RSS). Called by the push and the receiving side before they work;
// process-wide, but only fixes the threshold at 1 MiB, which is within glibc's own range. No-op elsewhere.
void return_large_blocks_to_the_system();

// Reserves room for n bytes in s for a buffer of several MB that is filled once and dropped (a received part):
// return_large_blocks_to_the_system() first, then the buffer is offered transparent huge pages (madvise), so
// filling 8 MB takes a handful of page faults instead of 2,048. Only a hint: where the kernel has none to give,
// nothing changes.
void reserve_large(std::string& s, size_t n);

// An exclusive flock on a file, taken without waiting (Error(state) with `busy_message` when held elsewhere)
// or, with wait, blocking until it is free.
class FileLock {
public:
    FileLock(const std::string& path, const std::string& busy_message, bool wait = false);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int fd_;
};

}  // namespace sitelift
