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

struct StopWalk {};

// The target of the link `name` (relative to dirfd, or AT_FDCWD) whose lstat size was `size`; false on failure.
bool read_link(int dirfd, const char* name, off_t size, std::string& target) {
    target.assign(static_cast<size_t>(size > 0 ? size : 256) + 1, '\0');
    const ssize_t n = readlinkat(dirfd, name, target.data(), target.size());
    if (n < 0) return false;
    target.resize(static_cast<size_t>(n));
    return true;
}

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
        for (size_t at = 0; !options.resume_after.empty();) {
            const size_t slash = options.resume_after.find('/', at);
            resume.push_back(options.resume_after.substr(at, slash == std::string::npos ? std::string::npos : slash - at));
            if (slash == std::string::npos) break;
            at = slash + 1;
        }
    }

    // The components of ScanOptions::resume_after. The walk's order is that of paths compared component by
    // component (names sorted bytewise in each folder, a folder before its children), so the entries already
    // visited are, in each folder on the way to that path, the names before its component there.
    std::vector<std::string> resume;

    bool excluded(const std::string& rel) const {
        // The destination keeps its own wp-config.php and SiteLift's work folder never travels.
        if (rel == "wp-config.php" || rel == ".sitelift") return true;
        for (const auto& p : exclusions)
            if (p.matches(rel)) return true;
        return false;
    }

    // depth: the folder's depth (0 for the root); resuming: the folder is on the way to resume_after.
    void walk(int dirfd, const std::string& prefix, size_t depth = 0, bool resuming = false) {
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
            size_t first = 0;
            if (resuming && depth < resume.size()) {
                const std::string& mark = resume[depth];
                first = static_cast<size_t>(std::lower_bound(names.begin(), names.end(), mark) - names.begin());
                if (first < names.size() && names[first] == mark) {
                    // Visited already (the last entry visited, or a folder on the way to it): only what lies
                    // below it may still be due.
                    descend(dirfd, prefix, mark, depth + 1, depth + 1 < resume.size());
                    ++first;
                }
            }
            for (size_t i = first; i < names.size(); ++i) visit_one(dirfd, prefix, names[i], depth);
        } catch (...) {
            closedir(dir);
            throw;
        }
        closedir(dir);
    }

    // Walks the children of the folder `name` (visited before the walk stopped), when it still is one.
    void descend(int dirfd, const std::string& prefix, const std::string& name, size_t depth, bool resuming) {
        std::string rel = prefix.empty() ? name : prefix + "/" + name;
        struct stat st;
        if (excluded(rel) || fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) return;
        int fd = openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return;  // gone or unreadable since: it was listed, its children cannot be
        walk(fd, rel, depth, resuming);
    }

    void visit_one(int dirfd, const std::string& prefix, const std::string& name, size_t depth) {
        std::string rel = prefix.empty() ? name : prefix + "/" + name;
        if (excluded(rel)) return;
        struct stat st;
        if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) return;  // vanished while we looked
            throw_errno(ErrorKind::io, "cannot stat '" + rel + "'", errno);
        }
        if (options.skip_ino != 0 && st.st_dev == options.skip_dev && st.st_ino == options.skip_ino) return;
        if (options.stop && options.stop()) throw StopWalk{};
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
            if (!read_link(dirfd, name.c_str(), st.st_size, e.target))
                throw_errno(ErrorKind::io, "cannot read link '" + rel + "'", errno);
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
            walk(fd, rel, depth + 1);
        } else {
            warn("skipped '" + rel + "': not a regular file, folder or symlink");
        }
    }
};

}  // namespace

void refuse_content_linked_outside(const std::string& root) {
    for (const char* rel : {"wp-content", "wp-content/uploads", "wp-content/plugins", "wp-content/themes"}) {
        const std::string path = root + "/" + rel;
        struct stat st;
        if (lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) continue;
        std::string target;
        if (read_link(AT_FDCWD, path.c_str(), st.st_size, target) && symlink_target_escapes(rel, target))
            throw Error(ErrorKind::usage, std::string("'") + rel + "' is a link to '" + target +
                                              "', outside the site's folder; a migration moves that folder only, so "
                                              "its content would be left behind (move it inside, or copy it by hand)");
    }
}

bool scan_tree(const std::string& root, const ScanOptions& options,
               const std::function<void(const ScanEntry&)>& visit,
               const std::function<void(const std::string&)>& warn) {
    int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_errno(ErrorKind::io, "cannot open site root '" + root + "'", errno);
    Walker w(options, visit, warn);
    try {
        w.walk(fd, "", 0, !w.resume.empty());
    } catch (const StopWalk&) {
        return false;
    }
    return true;
}

}  // namespace sitelift
