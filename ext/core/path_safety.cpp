#include "path_safety.hpp"

#include <climits>
#include <cstdlib>

#include "error.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <bitset>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

namespace sitelift {

namespace {

constexpr size_t kMaxPathBytes = 4096;
constexpr int kMaxSymlinkHops = 40;  // the kernel's limit for one lookup
constexpr size_t kDisplayLimit = 300;

// Owns a file descriptor.
class Fd {
public:
    explicit Fd(int fd = -1) noexcept : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const noexcept { return fd_; }
    int release() noexcept {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_;
};

[[noreturn]] void security(const std::string& message) { throw Error(ErrorKind::security, message); }

std::string quoted(std::string_view path) { return "'" + display_path(path) + "'"; }

// Non-empty components of a '/'-separated path ("." and ".." included).
std::vector<std::string> components(std::string_view path) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        if (j > i) out.emplace_back(path.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

int dup_cloexec(int fd) {
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0) throw_errno(ErrorKind::io, "duplicating a folder descriptor", errno);
    return d;
}

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// After openat(dirfd, name, kDirFlags) failed with err: explains why, as an exception.
[[noreturn]] void throw_open_dir_failure(int dirfd, const std::string& name, const std::string& shown, int err) {
    struct stat st;
    if ((err == ELOOP || err == ENOTDIR || err == EEXIST) && fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode)) security(quoted(shown) + " is a symlink; refusing to go through it");
        if (!S_ISDIR(st.st_mode)) throw Error(ErrorKind::io, quoted(shown) + " exists and is not a folder");
    }
    throw_errno(ErrorKind::io, "opening folder " + quoted(shown), err);
}

// chmod that never follows a final symlink. Returns false when the entry is a symlink (nothing done).
bool chmod_nofollow(int dirfd, const std::string& name, uint32_t mode, const std::string& shown) {
    mode &= 07777;
    if (fchmodat(dirfd, name.c_str(), mode, AT_SYMLINK_NOFOLLOW) == 0) return true;
    int err = errno;
    if (err != EOPNOTSUPP && err != ENOTSUP && err != ENOSYS)
        throw_errno(ErrorKind::io, "setting the mode of " + quoted(shown), err);
    // Either the entry is a symlink, or this C library cannot chmod without following (no /proc).
    struct stat st;
    if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        throw_errno(ErrorKind::io, "inspecting " + quoted(shown), errno);
    if (S_ISLNK(st.st_mode)) return false;
    if (fchmodat(dirfd, name.c_str(), mode, 0) != 0)
        throw_errno(ErrorKind::io, "setting the mode of " + quoted(shown), errno);
    return true;
}

std::string read_link_at(int dirfd, const std::string& name, const std::string& shown) {
    std::string buf(256, '\0');
    for (;;) {
        ssize_t n = readlinkat(dirfd, name.c_str(), &buf[0], buf.size());
        if (n < 0) throw_errno(ErrorKind::io, "reading symlink " + quoted(shown), errno);
        if (static_cast<size_t>(n) < buf.size()) {
            buf.resize(static_cast<size_t>(n));
            return buf;
        }
        if (buf.size() > (1u << 20)) throw Error(ErrorKind::io, "symlink " + quoted(shown) + " has an absurdly long target");
        buf.resize(buf.size() * 4);
    }
}

// ---- glob matching -------------------------------------------------------------------------------------------

// A compiled pattern, matched with a two-row dynamic programme: O(tokens x subject) time, O(subject) memory,
// whatever the stars, so hostile or careless patterns cannot blow up.
class Glob {
public:
    explicit Glob(std::string_view p) {
        size_t i = 0;
        while (i < p.size()) {
            char c = p[i];
            if (c == '*') {
                size_t j = i;
                while (j < p.size() && p[j] == '*') ++j;
                if (j - i == 1) {
                    tokens_.push_back({Kind::star, 0, 0});
                } else if ((i == 0 || p[i - 1] == '/') && j < p.size() && p[j] == '/') {
                    tokens_.push_back({Kind::any_dirs, 0, 0});  // "**/": zero or more whole folders
                    ++j;
                } else {
                    tokens_.push_back({Kind::globstar, 0, 0});
                }
                i = j;
                continue;
            }
            if (c == '?') {
                tokens_.push_back({Kind::one, 0, 0});
                ++i;
                continue;
            }
            if (c == '[') {
                size_t end = 0;
                std::bitset<256> set;
                if (parse_class(p, i, end, set)) {
                    tokens_.push_back({Kind::set, 0, classes_.size()});
                    classes_.push_back(set);
                    i = end;
                    continue;
                }
                // Unterminated: an ordinary '['.
            } else if (c == '\\' && i + 1 < p.size()) {
                c = p[++i];
            }
            tokens_.push_back({Kind::literal, static_cast<unsigned char>(c), 0});
            ++i;
        }
    }

    // Whole subject; with dir_prefix also any leading part of it that ends just before a '/'.
    bool match(std::string_view s, bool dir_prefix) const {
        const size_t n = s.size();
        std::vector<char> next(n + 1), cur(n + 1), below(n + 2);
        for (size_t i = 0; i <= n; ++i) next[i] = i == n || (dir_prefix && s[i] == '/');
        for (size_t t = tokens_.size(); t-- > 0;) {
            const Token& tok = tokens_[t];
            if (tok.kind == Kind::any_dirs) {
                // below[i]: some '/' at or after i is followed by a match of the rest.
                below[n] = 0;
                for (size_t i = n; i-- > 0;) below[i] = (s[i] == '/' && next[i + 1]) || below[i + 1];
            }
            for (size_t i = n + 1; i-- > 0;) {
                bool ok = false;
                unsigned char ch = i < n ? static_cast<unsigned char>(s[i]) : 0;
                switch (tok.kind) {
                    case Kind::literal: ok = i < n && ch == tok.ch && next[i + 1]; break;
                    case Kind::one: ok = i < n && ch != '/' && next[i + 1]; break;
                    case Kind::set: ok = i < n && ch != '/' && classes_[tok.cls].test(ch) && next[i + 1]; break;
                    case Kind::star: ok = next[i] || (i < n && ch != '/' && cur[i + 1]); break;
                    case Kind::globstar: ok = next[i] || (i < n && cur[i + 1]); break;
                    case Kind::any_dirs: ok = next[i] || below[i]; break;
                }
                cur[i] = ok;
            }
            next.swap(cur);
        }
        return next[0] != 0;
    }

    // The literal characters before the first wildcard (all of them when there is none).
    std::string literal_prefix() const {
        std::string out;
        for (const Token& t : tokens_) {
            if (t.kind != Kind::literal) break;
            out.push_back(static_cast<char>(t.ch));
        }
        return out;
    }
    bool is_literal() const {
        return std::all_of(tokens_.begin(), tokens_.end(), [](const Token& t) { return t.kind == Kind::literal; });
    }

private:
    enum class Kind { literal, one, set, star, globstar, any_dirs };
    struct Token {
        Kind kind;
        unsigned char ch;
        size_t cls;
    };

    // p[i] == '['. False when unterminated; otherwise end is the index after ']'.
    static bool parse_class(std::string_view p, size_t i, size_t& end, std::bitset<256>& set) {
        size_t j = i + 1;
        bool negate = false;
        if (j < p.size() && (p[j] == '!' || p[j] == '^')) {
            negate = true;
            ++j;
        }
        bool first = true;
        while (j < p.size()) {
            unsigned char lo = static_cast<unsigned char>(p[j]);
            if (lo == ']' && !first) {
                if (negate) set.flip();
                end = j + 1;
                return true;
            }
            first = false;
            if (lo == '\\' && j + 1 < p.size()) lo = static_cast<unsigned char>(p[++j]);
            ++j;
            unsigned char hi = lo;
            if (j + 1 < p.size() && p[j] == '-' && p[j + 1] != ']') {
                ++j;
                hi = static_cast<unsigned char>(p[j]);
                if (hi == '\\' && j + 1 < p.size()) hi = static_cast<unsigned char>(p[++j]);
                ++j;
            }
            for (unsigned v = lo; v <= hi; ++v) set.set(v);
        }
        return false;
    }

    std::vector<Token> tokens_;
    std::vector<std::bitset<256>> classes_;
};

// ---- remove_tree helpers ------------------------------------------------------------------------------------

struct RemoveFrame {
    dev_t dev;
    ino_t ino;
    std::string name;                  // name in the parent folder ("" for the top)
    std::vector<std::string> subdirs;  // still to remove
};

// Makes sure we may list and modify the open folder (owner rwx); best effort.
void ensure_owner_access(int fd) {
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700) (void)fchmod(fd, (st.st_mode & 07777) | 0700);
}

// Lists the open folder, removes everything that is not a folder and records the sub-folders.
void scan_and_unlink(int fd, RemoveFrame& frame, const std::string& shown) {
    ensure_owner_access(fd);
    int dfd = dup_cloexec(fd);
    DIR* dir = fdopendir(dfd);
    if (dir == nullptr) {
        int err = errno;
        ::close(dfd);
        throw_errno(ErrorKind::io, "listing folder " + quoted(shown), err);
    }
    std::vector<std::string> others;
    for (;;) {
        errno = 0;
        struct dirent* de = readdir(dir);
        if (de == nullptr) {
            int err = errno;
            if (err != 0) {
                closedir(dir);
                throw_errno(ErrorKind::io, "listing folder " + quoted(shown), err);
            }
            break;
        }
        const char* n = de->d_name;
        if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
        bool is_dir;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno == ENOENT) continue;
                int err = errno;
                closedir(dir);
                throw_errno(ErrorKind::io, "inspecting " + quoted(shown + "/" + n), err);
            }
            is_dir = S_ISDIR(st.st_mode);
        } else {
            is_dir = de->d_type == DT_DIR;
        }
        (is_dir ? frame.subdirs : others).emplace_back(n);
    }
    closedir(dir);
    for (auto& n : others) {
        if (unlinkat(fd, n.c_str(), 0) == 0 || errno == ENOENT) continue;
        if (errno == EISDIR) {  // it became a folder since we listed it
            frame.subdirs.push_back(n);
            continue;
        }
        throw_errno(ErrorKind::io, "removing " + quoted(shown + "/" + n), errno);
    }
}

}  // namespace

// ---- paths ---------------------------------------------------------------------------------------------------

std::string display_path(std::string_view path) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    size_t i = 0;
    auto escape = [&](unsigned char c) {
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 15];
    };
    while (i < path.size()) {
        if (out.size() >= kDisplayLimit) {
            out += "...";
            break;
        }
        unsigned char c = static_cast<unsigned char>(path[i]);
        if (c < 0x20 || c == 0x7f || c == '\\') {
            escape(c);
            ++i;
            continue;
        }
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        // Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
        size_t len = 0;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        }
        bool ok = len != 0 && i + len <= path.size();
        for (size_t k = 1; ok && k < len; ++k) {
            unsigned char cc = static_cast<unsigned char>(path[i + k]);
            if (k == 1 ? (cc < lo || cc > hi) : (cc < 0x80 || cc > 0xbf)) ok = false;
        }
        if (!ok) {
            escape(c);
            ++i;
            continue;
        }
        out.append(path.substr(i, len));
        i += len;
    }
    return out;
}

std::string safe_relative_path(std::string_view path) {
    if (path.empty()) security("empty path");
    if (path.size() > kMaxPathBytes) security("path longer than 4096 bytes: " + quoted(path));
    if (path.find('\0') != std::string_view::npos) security("path contains a NUL byte: " + quoted(path));
    if (path.front() == '/') security("absolute path " + quoted(path));
    std::string_view rest = path;
    if (rest.size() >= 2 && rest[0] == '.' && rest[1] == '/') rest.remove_prefix(2);
    std::string out;
    out.reserve(rest.size());
    size_t i = 0;
    while (i < rest.size()) {
        size_t j = rest.find('/', i);
        if (j == std::string_view::npos) j = rest.size();
        std::string_view comp = rest.substr(i, j - i);
        if (comp == "..") security("path climbs with '..': " + quoted(path));
        if (comp == ".") security("path has a '.' component: " + quoted(path));
        if (!comp.empty()) {
            if (!out.empty()) out += '/';
            out.append(comp);
        }
        i = j + 1;
    }
    if (out.empty()) security("path names no entry: " + quoted(path));
    return out;
}

bool symlink_target_escapes(std::string_view link_path, std::string_view target) {
    if (target.empty() || target.front() == '/' || target.find('\0') != std::string_view::npos) return true;
    std::string link;
    try {
        link = safe_relative_path(link_path);
    } catch (const Error&) {
        return true;
    }
    size_t depth = 0;  // folders between the root and the link
    for (char c : link)
        if (c == '/') ++depth;
    for (const auto& comp : components(target)) {
        if (comp == ".") continue;
        if (comp == "..") {
            if (depth == 0) return true;
            --depth;
        } else {
            ++depth;
        }
    }
    return false;
}

// ---- SafeTree ------------------------------------------------------------------------------------------------

SafeTree::SafeTree(const std::string& root) : root_(root), root_fd_(-1) {
    root_fd_ = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd_ < 0) throw_errno(ErrorKind::io, "opening staging folder " + quoted(root), errno);
}

SafeTree::~SafeTree() {
    if (root_fd_ >= 0) ::close(root_fd_);
}

int SafeTree::open_parent(const std::string& rel, std::string& leaf, bool create) const {
    std::string canon = safe_relative_path(rel);
    size_t slash = canon.rfind('/');
    leaf = slash == std::string::npos ? canon : canon.substr(slash + 1);
    Fd cur(dup_cloexec(root_fd_));
    if (slash == std::string::npos) return cur.release();
    std::string_view dirs(canon.data(), slash);
    size_t i = 0;
    while (i < dirs.size()) {
        size_t j = dirs.find('/', i);
        if (j == std::string_view::npos) j = dirs.size();
        std::string comp(dirs.substr(i, j - i));
        std::string shown(dirs.substr(0, j));
        int next = openat(cur.get(), comp.c_str(), kDirFlags);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(cur.get(), comp.c_str(), 0755) != 0 && errno != EEXIST)
                throw_errno(ErrorKind::io, "creating folder " + quoted(shown), errno);
            next = openat(cur.get(), comp.c_str(), kDirFlags);
        }
        if (next < 0) throw_open_dir_failure(cur.get(), comp, shown, errno);
        cur.reset(next);
        i = j + 1;
    }
    return cur.release();
}

void SafeTree::make_dir(const std::string& rel, uint32_t mode) {
    std::string leaf;
    Fd parent(open_parent(rel, leaf, true));
    if (mkdirat(parent.get(), leaf.c_str(), 0700) != 0 && errno != EEXIST)
        throw_errno(ErrorKind::io, "creating folder " + quoted(rel), errno);
    struct stat st;
    if (fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        throw_errno(ErrorKind::io, "inspecting folder " + quoted(rel), errno);
    if (S_ISLNK(st.st_mode)) security(quoted(rel) + " already exists as a symlink");
    if (!S_ISDIR(st.st_mode)) throw Error(ErrorKind::io, quoted(rel) + " already exists and is not a folder");
    chmod_nofollow(parent.get(), leaf, mode, rel);
}

int SafeTree::create_file(const std::string& rel, uint32_t mode) {
    std::string leaf;
    Fd parent(open_parent(rel, leaf, true));
    Fd fd(openat(parent.get(), leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        int err = errno;
        struct stat st;
        if (err == EEXIST && fstatat(parent.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            security(quoted(rel) + " already exists as a symlink");
        throw_errno(ErrorKind::io, "creating file " + quoted(rel), err);
    }
    if (fchmod(fd.get(), mode & 07777) != 0) throw_errno(ErrorKind::io, "setting the mode of " + quoted(rel), errno);
    return fd.release();
}

int SafeTree::open_file(const std::string& rel, uint32_t mode, bool truncate) {
    std::string leaf;
    Fd parent(open_parent(rel, leaf, true));
    int flags = O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (truncate ? O_TRUNC : 0);
    Fd fd(openat(parent.get(), leaf.c_str(), flags, 0600));
    if (fd.get() < 0) {
        int err = errno;
        if (err == ELOOP) security(quoted(rel) + " already exists as a symlink");
        throw_errno(ErrorKind::io, "opening file " + quoted(rel), err);
    }
    struct stat st;
    if (fstat(fd.get(), &st) != 0) throw_errno(ErrorKind::io, "opening file " + quoted(rel), errno);
    if (!S_ISREG(st.st_mode)) security(quoted(rel) + " exists and is not a regular file");
    if (fchmod(fd.get(), mode & 07777) != 0) throw_errno(ErrorKind::io, "setting the mode of " + quoted(rel), errno);
    return fd.release();
}

void SafeTree::make_symlink(const std::string& rel, const std::string& target) {
    std::string canon = safe_relative_path(rel);
    if (symlink_target_escapes(canon, target))
        security("symlink " + quoted(canon) + " -> " + quoted(target) + " points outside the folder");
    std::string leaf;
    Fd parent(open_parent(canon, leaf, true));
    if (symlinkat(target.c_str(), parent.get(), leaf.c_str()) == 0) return;
    const int err = errno;
    // A step that was cut short and runs again finds the links it made: the same link is already done.
    if (err == EEXIST) {
        std::string have(target.size() + 1, '\0');
        const ssize_t n = readlinkat(parent.get(), leaf.c_str(), have.data(), have.size());
        if (n >= 0 && static_cast<size_t>(n) == target.size() && have.compare(0, target.size(), target) == 0) return;
        // Something else holds the name: an archive that has a file or folder (or another link) there too,
        // such as a link with files stored below it as if it were a folder.
        security("symlink " + quoted(canon) + " collides with " + (n >= 0 ? "another symlink" : "a file or folder") +
                 " of the same name in the archive");
    }
    throw_errno(ErrorKind::io, "creating symlink " + quoted(canon), err);
}

void SafeTree::set_times(const std::string& rel, int64_t mtime, uint32_t mtime_nsec) {
    if (mtime_nsec >= 1000000000u) throw Error(ErrorKind::usage, "set_times: nanoseconds out of range");
    std::string leaf;
    Fd parent(open_parent(rel, leaf, false));
    struct timespec ts[2];
    ts[0].tv_sec = 0;
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1].tv_sec = static_cast<time_t>(mtime);
    ts[1].tv_nsec = static_cast<long>(mtime_nsec);
    if (utimensat(parent.get(), leaf.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
        throw_errno(ErrorKind::io, "setting the time of " + quoted(rel), errno);
}

void SafeTree::set_mode(const std::string& rel, uint32_t mode) {
    std::string leaf;
    Fd parent(open_parent(rel, leaf, false));
    chmod_nofollow(parent.get(), leaf, mode, rel);
}

bool SafeTree::resolves_inside(const std::string& rel) const {
    if (rel.find('\0') != std::string::npos) return false;
    if (!rel.empty() && rel.front() == '/') return false;
    auto parts = components(rel);
    std::deque<std::string> todo(parts.begin(), parts.end());
    std::vector<std::string> stack;  // resolved folders below the root; names past lexical_from are lexical only
    bool lexical = false;
    size_t lexical_from = 0;
    int hops = 0;
    Fd cur(dup_cloexec(root_fd_));
    bool cur_valid = true;  // cur is the folder named by stack (only meaningful when !lexical)

    auto reopen = [&]() {
        cur.reset(dup_cloexec(root_fd_));
        for (const auto& name : stack) {
            int next = openat(cur.get(), name.c_str(), kDirFlags);
            if (next < 0) throw_open_dir_failure(cur.get(), name, name, errno);
            cur.reset(next);
        }
        cur_valid = true;
    };

    while (!todo.empty()) {
        std::string comp = std::move(todo.front());
        todo.pop_front();
        if (comp == ".") continue;
        if (comp == "..") {
            if (stack.empty()) return false;
            stack.pop_back();
            if (lexical) {
                if (stack.size() < lexical_from) {
                    lexical = false;  // back on real ground: follow symlinks again
                    cur_valid = false;
                }
            } else {
                cur_valid = false;
            }
            continue;
        }
        if (lexical) {
            stack.push_back(std::move(comp));
            continue;
        }
        if (!cur_valid) reopen();
        struct stat st;
        if (fstatat(cur.get(), comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT && errno != ENOTDIR) throw_errno(ErrorKind::io, "inspecting " + quoted(comp), errno);
            lexical = true;
            stack.push_back(std::move(comp));
            lexical_from = stack.size();
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            if (++hops > kMaxSymlinkHops) return false;
            std::string target = read_link_at(cur.get(), comp, comp);
            if (target.empty() || target.front() == '/') return false;
            auto tparts = components(target);
            todo.insert(todo.begin(), tparts.begin(), tparts.end());
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            bool more = false;
            for (const auto& t : todo)
                if (!t.empty() && t != ".") more = true;
            if (more) {
                int next = openat(cur.get(), comp.c_str(), kDirFlags);
                if (next < 0) throw_open_dir_failure(cur.get(), comp, comp, errno);
                cur.reset(next);
            } else {
                cur_valid = false;
            }
            stack.push_back(std::move(comp));
            continue;
        }
        // A file or other non-folder: whatever follows can only be resolved lexically.
        stack.push_back(std::move(comp));
        lexical = true;
        lexical_from = stack.size();
    }
    return true;
}

// ---- remove_tree ---------------------------------------------------------------------------------------------

void remove_tree(const std::string& path) {
    if (path.empty()) throw Error(ErrorKind::usage, "remove_tree: empty path");
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        throw_errno(ErrorKind::io, "inspecting " + quoted(path), errno);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path.c_str()) != 0 && errno != ENOENT) throw_errno(ErrorKind::io, "removing " + quoted(path), errno);
        return;
    }
    int top = ::open(path.c_str(), kDirFlags);
    if (top < 0 && errno == EACCES) {
        (void)fchmodat(AT_FDCWD, path.c_str(), (st.st_mode & 07777) | 0700, AT_SYMLINK_NOFOLLOW);
        top = ::open(path.c_str(), kDirFlags);
    }
    if (top < 0) {
        if (errno == ENOENT) return;
        if (errno == ELOOP || errno == ENOTDIR) {  // replaced by something else meanwhile: remove just that
            if (unlink(path.c_str()) != 0 && errno != ENOENT)
                throw_errno(ErrorKind::io, "removing " + quoted(path), errno);
            return;
        }
        throw_errno(ErrorKind::io, "opening folder " + quoted(path), errno);
    }
    Fd cur(top);
    if (fstat(cur.get(), &st) != 0) throw_errno(ErrorKind::io, "inspecting " + quoted(path), errno);

    std::vector<RemoveFrame> stack;
    stack.push_back(RemoveFrame{st.st_dev, st.st_ino, std::string(), {}});
    std::string shown = path;  // the folder cur refers to, for messages (kept up to date incrementally)
    scan_and_unlink(cur.get(), stack.back(), shown);

    for (;;) {
        RemoveFrame& frame = stack.back();
        if (!frame.subdirs.empty()) {
            std::string name = std::move(frame.subdirs.back());
            frame.subdirs.pop_back();
            int child = openat(cur.get(), name.c_str(), kDirFlags);
            if (child < 0 && errno == EACCES) {
                (void)fchmodat(cur.get(), name.c_str(), 0700, AT_SYMLINK_NOFOLLOW);
                child = openat(cur.get(), name.c_str(), kDirFlags);
            }
            if (child < 0) {
                int err = errno;
                if (err == ENOENT) continue;
                if (err == ELOOP || err == ENOTDIR) {  // no longer a folder: unlink whatever it is now
                    if (unlinkat(cur.get(), name.c_str(), 0) != 0 && errno != ENOENT)
                        throw_errno(ErrorKind::io, "removing " + quoted(shown + "/" + name), errno);
                    continue;
                }
                throw_errno(ErrorKind::io, "opening folder " + quoted(shown + "/" + name), err);
            }
            struct stat cst;
            if (fstat(child, &cst) != 0) {
                int err = errno;
                ::close(child);
                throw_errno(ErrorKind::io, "inspecting " + quoted(shown + "/" + name), err);
            }
            cur.reset(child);
            shown += '/';
            shown += name;
            stack.push_back(RemoveFrame{cst.st_dev, cst.st_ino, std::move(name), {}});
            scan_and_unlink(cur.get(), stack.back(), shown);
            continue;
        }
        if (stack.size() == 1) break;
        std::string name = std::move(frame.name);
        stack.pop_back();
        // Climb back through "..", checking we land where we came from (nothing was moved meanwhile).
        int parent = openat(cur.get(), "..", kDirFlags);
        if (parent < 0) throw_errno(ErrorKind::io, "opening the parent of " + quoted(shown), errno);
        cur.reset(parent);
        struct stat pst;
        if (fstat(cur.get(), &pst) != 0) throw_errno(ErrorKind::io, "inspecting the parent of " + quoted(shown), errno);
        if (pst.st_dev != stack.back().dev || pst.st_ino != stack.back().ino)
            throw Error(ErrorKind::io, "folder " + quoted(shown) + " was moved while it was being removed");
        if (unlinkat(cur.get(), name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
            throw_errno(ErrorKind::io, "removing folder " + quoted(shown), errno);
        shown.resize(shown.size() - name.size() - 1);
    }
    cur.reset();
    if (rmdir(path.c_str()) != 0 && errno != ENOENT) throw_errno(ErrorKind::io, "removing folder " + quoted(path), errno);
}

// ---- glob_match ----------------------------------------------------------------------------------------------

struct GlobPattern::Compiled {
    bool anchored = false;  // matched against the whole path, else against each component
    bool literal = false;   // no wildcard at all: `text` is the whole pattern
    std::string text;       // the literal pattern, or the literal beginning of a wildcard one
    std::unique_ptr<Glob> glob;  // none for an empty pattern, which matches nothing
};

GlobPattern::GlobPattern(std::string_view pattern) : c_(std::make_unique<Compiled>()) {
    for (;;) {
        if (!pattern.empty() && pattern.front() == '/') {
            pattern.remove_prefix(1);
            c_->anchored = true;
        } else if (pattern.size() >= 2 && pattern[0] == '.' && pattern[1] == '/') {
            pattern.remove_prefix(2);
            c_->anchored = true;
        } else {
            break;
        }
    }
    while (!pattern.empty() && pattern.back() == '/') pattern.remove_suffix(1);
    if (pattern.empty()) return;
    if (pattern.find('/') != std::string_view::npos) c_->anchored = true;
    c_->glob = std::make_unique<Glob>(pattern);
    c_->text = c_->glob->literal_prefix();
    c_->literal = c_->glob->is_literal();
}

GlobPattern::~GlobPattern() = default;
GlobPattern::GlobPattern(GlobPattern&&) noexcept = default;
GlobPattern& GlobPattern::operator=(GlobPattern&&) noexcept = default;

bool GlobPattern::matches(std::string_view path) const {
    const Compiled& c = *c_;
    if (!c.glob) return false;
    while (path.size() >= 2 && path[0] == '.' && path[1] == '/') path.remove_prefix(2);
    const std::string_view text(c.text);
    if (c.anchored) {
        // Every match starts with the pattern's literal beginning.
        if (path.compare(0, text.size(), text) != 0) return false;
        if (c.literal) return path.size() == text.size() || path[text.size()] == '/';
        return c.glob->match(path, true);
    }
    size_t i = 0;
    while (i < path.size()) {
        size_t j = path.find('/', i);
        if (j == std::string_view::npos) j = path.size();
        const std::string_view comp = path.substr(i, j - i);
        if (!comp.empty() && comp.compare(0, text.size(), text) == 0 &&
            (c.literal ? comp.size() == text.size() : c.glob->match(comp, false)))
            return true;
        i = j + 1;
    }
    return false;
}

bool glob_match(std::string_view pattern, std::string_view path) { return GlobPattern(pattern).matches(path); }

bool is_valid_utf8(const std::string& s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    size_t n = s.size(), i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c < 0x80) { ++i; continue; }
        size_t len;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
        else return false;
        if (i + len > n) return false;
        for (size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

std::string real_site_root(const std::string& root) {
    char buf[PATH_MAX];
    if (!::realpath(root.c_str(), buf)) throw_errno(ErrorKind::usage, "site root '" + root + "' is not usable", errno);
    struct stat st;
    if (::stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
        throw Error(ErrorKind::usage, "site root '" + root + "' is not a folder");
    return buf;
}

}  // namespace sitelift
