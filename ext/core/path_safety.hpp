// Rules that keep archive entries inside their staging folder, and a writer that enforces them on disk.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sitelift {

// Validates a relative entry path and returns it in canonical form ("a/b/c"): a leading "./" and repeated or
// trailing slashes are dropped. Throws Error(security) for an empty path, NUL bytes, an absolute path, a ".."
// component, a "." component inside the path, or a path longer than 4096 bytes.
std::string safe_relative_path(std::string_view path);

// True when a symlink stored at link_path (a safe relative path) with the given target would point outside
// the root when resolved lexically from the link's folder: absolute targets and targets climbing above the
// root escape. Empty targets escape.
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

    // Creates the folder and any missing parents (mode applied to the last one).
    void make_dir(const std::string& rel, uint32_t mode);
    // Creates a new regular file (fails if it exists) and returns an fd open for writing.
    int create_file(const std::string& rel, uint32_t mode);
    // Creates a symlink; throws Error(security) if symlink_target_escapes.
    void make_symlink(const std::string& rel, const std::string& target);
    // Sets mtime (and, for non-links, mode) without following a final symlink.
    void set_times(const std::string& rel, int64_t mtime, uint32_t mtime_nsec);
    void set_mode(const std::string& rel, uint32_t mode);

    // Follows the symlinks inside the tree the way the kernel would (at most 40 hops) and reports whether the
    // path, once resolved, stays below the root. Missing components are resolved lexically.
    bool resolves_inside(const std::string& rel) const;

private:
    int open_parent(const std::string& rel, std::string& leaf, bool create) const;
    std::string root_;
    int root_fd_;
};

// Removes a folder tree without following symlinks. Missing is fine.
void remove_tree(const std::string& path);

}  // namespace sitelift
