#include "scan.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.hpp"
#include "path_safety.hpp"

namespace sitelift {

const std::vector<std::string>& default_exclusions() {
    static const std::vector<std::string> list = {
        // version control
        ".git", ".svn", ".hg",
        // caches that rebuild themselves
        "wp-content/cache", "wp-content/et-cache", "wp-content/upgrade", "wp-content/upgrade-temp-backup",
        // other backup and migration plugins' archives
        "wp-content/updraft", "wp-content/ai1wm-backups", "wp-content/backups-dup-lite",
        "wp-content/backups-dup-pro", "wp-content/backup-db", "wp-content/backupwordpress-*",
        "wp-content/wpvividbackups", "wp-content/backupbuddy_backups", "wp-content/wp-snapshots",
        "wp-content/uploads/backwpup-*", "wp-content/uploads/wp-migrate-db",
        "wp-content/uploads/backupbuddy_backups", "wp-content/uploads/wp-staging",
    };
    return list;
}

namespace {

struct Walker {
    const ScanOptions& options;
    const std::function<void(const ScanEntry&)>& visit;
    const std::function<void(const std::string&)>& warn;
    std::vector<GlobPattern> exclusions;  // compiled once: every entry of the site is tested against each

    Walker(const ScanOptions& o, const std::function<void(const ScanEntry&)>& v,
           const std::function<void(const std::string&)>& w)
        : options(o), visit(v), warn(w) {
        if (options.default_excludes)
            for (const auto& p : default_exclusions()) exclusions.emplace_back(p);
        for (const auto& p : options.excludes) exclusions.emplace_back(p);
    }

    bool excluded(const std::string& rel) const {
        // The destination keeps its own wp-config.php and SiteLift's work folder never travels.
        if (rel == "wp-config.php" || rel == ".sitelift") return true;
        for (const auto& p : exclusions)
            if (p.matches(rel)) return true;
        return false;
    }

    void walk(int dirfd, const std::string& prefix) {
        DIR* dir = fdopendir(dirfd);
        if (!dir) {
            int e = errno;
            close(dirfd);
            throw_errno(ErrorKind::io, "cannot list folder '" + (prefix.empty() ? "." : prefix) + "'", e);
        }
        std::vector<std::string> names;
        errno = 0;
        while (struct dirent* de = readdir(dir)) {
            if (std::strcmp(de->d_name, ".") == 0 || std::strcmp(de->d_name, "..") == 0) continue;
            names.emplace_back(de->d_name);
        }
        if (errno != 0) {
            int e = errno;
            closedir(dir);
            throw_errno(ErrorKind::io, "cannot list folder '" + prefix + "'", e);
        }
        std::sort(names.begin(), names.end());
        try {
            for (const auto& name : names) visit_one(dirfd, prefix, name);
        } catch (...) {
            closedir(dir);
            throw;
        }
        closedir(dir);
    }

    void visit_one(int dirfd, const std::string& prefix, const std::string& name) {
        std::string rel = prefix.empty() ? name : prefix + "/" + name;
        if (excluded(rel)) return;
        struct stat st;
        if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) return;  // vanished while we looked
            throw_errno(ErrorKind::io, "cannot stat '" + rel + "'", errno);
        }
        if (options.skip_ino != 0 && st.st_dev == options.skip_dev && st.st_ino == options.skip_ino) return;
        ScanEntry e;
        e.path = rel;
        e.mode = st.st_mode & 07777;
        e.mtime = st.st_mtim.tv_sec;
        e.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
        e.dev = st.st_dev;
        e.ino = st.st_ino;
        if (S_ISREG(st.st_mode)) {
            e.kind = ScanEntry::file;
            e.size = static_cast<uint64_t>(st.st_size);
            visit(e);
        } else if (S_ISLNK(st.st_mode)) {
            e.kind = ScanEntry::symlink;
            std::string buf(static_cast<size_t>(st.st_size > 0 ? st.st_size : 256) + 1, '\0');
            ssize_t n = readlinkat(dirfd, name.c_str(), buf.data(), buf.size());
            if (n < 0) throw_errno(ErrorKind::io, "cannot read link '" + rel + "'", errno);
            buf.resize(static_cast<size_t>(n));
            e.target = buf;
            if (symlink_target_escapes(rel, e.target)) {
                warn("skipped symlink '" + rel + "' -> '" + e.target + "': it points outside the site root");
                return;
            }
            visit(e);
        } else if (S_ISDIR(st.st_mode)) {
            e.kind = ScanEntry::directory;
            int fd = openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) {
                if (errno == EACCES) {
                    warn("skipped folder '" + rel + "': permission denied");
                    return;
                }
                throw_errno(ErrorKind::io, "cannot open folder '" + rel + "'", errno);
            }
            try {
                visit(e);
            } catch (...) {
                close(fd);
                throw;
            }
            walk(fd, rel);
        } else {
            warn("skipped '" + rel + "': not a regular file, folder or symlink");
        }
    }
};

}  // namespace

void scan_tree(const std::string& root, const ScanOptions& options,
               const std::function<void(const ScanEntry&)>& visit,
               const std::function<void(const std::string&)>& warn) {
    int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_errno(ErrorKind::io, "cannot open site root '" + root + "'", errno);
    Walker w(options, visit, warn);
    w.walk(fd, "");
}

}  // namespace sitelift
