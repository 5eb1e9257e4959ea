#include "workdir.hpp"

#include <cerrno>
#include <cstdint>
#include <mutex>

#include <fcntl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.hpp"

namespace sitelift {

bool exists_nofollow(const std::string& p) {
    struct stat st;
    return ::lstat(p.c_str(), &st) == 0;
}

void make_dir(const std::string& p, mode_t mode) {
    if (::mkdir(p.c_str(), mode) != 0 && errno != EEXIST) throw_errno(ErrorKind::io, "cannot create '" + p + "'", errno);
}

void write_file_atomic(const std::string& path, const std::string& content, bool durable) {
    std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw_errno(ErrorKind::io, "cannot write '" + tmp + "'", errno);
    size_t off = 0;
    while (off < content.size()) {
        ssize_t n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            ::close(fd);
            throw_errno(ErrorKind::io, "cannot write '" + tmp + "'", e);
        }
        off += static_cast<size_t>(n);
    }
    if ((durable && ::fsync(fd) != 0) || ::close(fd) != 0) throw_errno(ErrorKind::io, "cannot write '" + tmp + "'", errno);
    if (::rename(tmp.c_str(), path.c_str()) != 0) throw_errno(ErrorKind::io, "cannot replace '" + path + "'", errno);
}

void return_large_blocks_to_the_system() {
#if defined(__GLIBC__)
    static std::once_flag once;
    std::call_once(once, [] { ::mallopt(M_MMAP_THRESHOLD, 1 << 20); });
#endif
}

void reserve_large(std::string& s, size_t n) {
    return_large_blocks_to_the_system();
    s.reserve(n);
#if defined(MADV_HUGEPAGE)
    constexpr uintptr_t kHuge = uintptr_t(2) << 20;
    const auto begin = reinterpret_cast<uintptr_t>(s.data());
    const uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
    const uintptr_t last = (begin + s.capacity()) & ~(kHuge - 1);
    if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);  // advice only
#endif
}

void do_rename(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0)
        throw_errno(ErrorKind::io, "cannot move '" + from + "' to '" + to + "'", errno);
}

// The work folder lives inside the web root: make sure no web server hands it out.
void ensure_work_dir(const std::string& work) {
    make_dir(work, 0700);
    std::string ht = work + "/.htaccess";
    if (!exists_nofollow(ht)) write_file_atomic(ht, "Require all denied\nDeny from all\n");
    std::string idx = work + "/index.php";
    if (!exists_nofollow(idx)) write_file_atomic(idx, "<?php\n// Silence.\n");
}

FileLock::FileLock(const std::string& path, const std::string& busy_message, bool wait) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd_ < 0) throw_errno(ErrorKind::io, "cannot open the lock file", errno);
    int rc;
    do {
        rc = ::flock(fd_, LOCK_EX | (wait ? 0 : LOCK_NB));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        ::close(fd_);
        throw Error(ErrorKind::state, busy_message);
    }
}

FileLock::~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
}

}  // namespace sitelift
