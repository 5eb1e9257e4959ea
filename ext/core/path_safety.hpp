// Rules that keep archive entries inside their staging folder, and a writer that enforces them on disk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sitelift {

// Validates a relative entry path and returns it in canonical form ("a/b/c"): a leading "./" and repeated or
// trailing slashes are dropped. Throws Error(security) for an empty path, NUL bytes, an absolute path, a ".."
// component, a "." component inside the path, or a path longer than 4096 bytes.
std::string safe_relative_path(std::string_view path);

// True when a symlink stored at link_path (a safe relative path) with the given target would point outside
// the root when resolved lexically from the link's folder: absolute targets and targets climbing above the
// root escape. Empty targets escape, and so do targets holding a NUL byte or a link_path that is not safe.
bool symlink_target_escapes(std::string_view link_path, std::string_view target);

// A folder tree that only ever grows below its root. Every path is checked with safe_relative_path, parent
// folders are created one component at a time with O_NOFOLLOW semantics, and nothing is ever written through
// a symlink, so no entry can land outside the root, whatever came before it.
class SafeTree {
public:
    explicit SafeTree(const std::string& root);  // root must exist and be a directory
    ~SafeTree();
    SafeTree(const SafeTree&) = delete;
    SafeTree& operator=(const SafeTree&) = delete;

    const std::string& root() const { return root_; }

    // All members below throw Error(security) for an unsafe rel (see safe_relative_path) and when a parent
    // component is a symlink (whatever it points to), Error(io) for other file-system failures.
    //
    // Creates the folder and any missing parents (mode applied to the last one; missing parents get 0755 minus
    // the umask). An existing folder is fine (its mode is set); an existing symlink there is Error(security).
    void make_dir(const std::string& rel, uint32_t mode);
    // Creates a new regular file (fails if it exists) and returns an fd open for writing; the caller closes it.
    // The mode (07777) is applied exactly, ignoring the umask; set_mode after writing if setuid/setgid bits
    // must survive writes by a non-root process.
    int create_file(const std::string& rel, uint32_t mode);
    // Opens a regular file for reading and writing, creating it when missing (never through a symlink: an existing
    // symlink or other non-regular file there is Error(security)); truncates it when truncate.
    int open_file(const std::string& rel, uint32_t mode, bool truncate);
    // Creates a symlink; throws Error(security) if symlink_target_escapes. A symlink already there with the same
    // target counts as made (a step cut short can run again); anything else of that name there (another link, a
    // file or folder of the same archive) is Error(security).
    void make_symlink(const std::string& rel, const std::string& target);
    // Sets mtime (atime is left alone) without following a final symlink. mtime_nsec must be < 1e9.
    void set_times(const std::string& rel, int64_t mtime, uint32_t mtime_nsec);
    // Sets the permission bits (07777) without following a final symlink; on a symlink it does nothing.
    void set_mode(const std::string& rel, uint32_t mode);

    // Follows the symlinks inside the tree the way the kernel would (at most 40 hops) and reports whether the
    // path, once resolved, stays below the root. Missing components are resolved lexically.
    // rel may contain ".." (resolved physically, like the kernel); an absolute path, a NUL byte, a symlink with
    // an absolute or empty target, more than 40 hops, or any step above the root give false. "" is the root.
    bool resolves_inside(const std::string& rel) const;

private:
    int open_parent(const std::string& rel, std::string& leaf, bool create) const;
    std::string root_;
    int root_fd_;
};

// Renders a path (or any byte string) for a message: valid UTF-8 is kept, control characters, backslashes and
// bytes that are not valid UTF-8 become \xHH, and anything past 300 bytes is cut and marked with "...".
std::string display_path(std::string_view path);

// The canonical absolute path of a site root (symlinks resolved); Error(usage) unless it is a folder.
std::string real_site_root(const std::string& root);

// Strict UTF-8: no overlong forms, no surrogates (so no CESU-8), nothing above U+10FFFF.
bool is_valid_utf8(const std::string& s);

// Removes a folder tree without following symlinks. Missing is fine.
// A symlink (even one to a folder) is removed as a link; what it points to is never touched. If path itself is
// a symlink or a file, only that is removed. Works one folder at a time through file descriptors (no shell, no
// recursion on the C++ stack, one open folder at a time), so very deep trees are fine.
void remove_tree(const std::string& path);

// Matches an --exclude pattern against a relative, '/'-separated path (fnmatch-like, case-sensitive):
//   *      any run of characters except '/' (it may match a leading '.');
//   **     any run of characters including '/'; as a whole component followed by '/' ("a/**/b", "**/x") it
//          also matches zero folders, so "a/**/b" matches "a/b" and "**/x" matches "x";
//   ?      one character other than '/';
//   [...]  one character (not '/') from the set; ranges "a-z", negation "[!...]" or "[^...]", a ']' right
//          after '[' or '[!' is literal; an unterminated '[' is literal;
//   \x     the character x literally.
// A pattern without '/' is matched against every component of the path (so "*.log" matches "debug.log" and
// "wp-content/debug.log"; there "**" is just "*"). A pattern with '/' (or a leading "/" or "./") is anchored at
// the root and matched against the whole path.
// Either way the match also succeeds for anything below a matching folder: "wp-content/cache" and "cache"
// both match "wp-content/cache/a/b.html", so excluding a folder excludes its contents whether the caller walks
// a tree (and stops at the folder) or filters a flat list of archive entries. A trailing '/' in the pattern
// is ignored; a leading "/" only anchors ("/wp-config.php" matches "wp-config.php" but not
// "sub/wp-config.php"); a leading "./" in the path is ignored. An empty pattern matches nothing. Time is
// O(pattern x path) whatever the pattern.
bool glob_match(std::string_view pattern, std::string_view path);

// glob_match with the pattern compiled once, for matching one pattern against many paths (a scan tests every
// exclusion against every entry of the site). A pattern without wildcards is compared as a string, and an
// anchored one is first checked against its literal beginning, so most paths are rejected by one comparison.
class GlobPattern {
public:
    explicit GlobPattern(std::string_view pattern);
    ~GlobPattern();
    GlobPattern(GlobPattern&&) noexcept;
    GlobPattern& operator=(GlobPattern&&) noexcept;
    GlobPattern(const GlobPattern&) = delete;
    GlobPattern& operator=(const GlobPattern&) = delete;

    bool matches(std::string_view path) const;

private:
    struct Compiled;
    std::unique_ptr<Compiled> c_;
};

}  // namespace sitelift
