// Walks a WordPress root for export: depth-first, names sorted bytewise, never following symlinks.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace sitelift {

struct ScanEntry {
    std::string path;     // relative to the root, '/'-separated
    enum Kind { file, directory, symlink } kind;
    uint64_t size = 0;
    uint32_t mode = 0;    // permission bits
    int64_t mtime = 0;
    uint32_t mtime_nsec = 0;
    std::string target;   // symlinks
    dev_t dev = 0;
    ino_t ino = 0;
};

struct ScanOptions {
    std::vector<std::string> excludes;  // glob_match patterns, relative to the root
    bool default_excludes = true;       // default_exclusions() below
    dev_t skip_dev = 0;                 // a file never to include (the archive being written), by device/inode
    ino_t skip_ino = 0;
    // Resuming a walk that stopped: the entries up to and including this one, in the walk's order, are not
    // visited again (the children of a folder that was the last one visited are). Relative, '/'-separated;
    // empty: from the start.
    std::string resume_after;
    // Asked before each entry that is not excluded; true stops the walk there (before it).
    std::function<bool()> stop;
};

// wp-config.php at the root, SiteLift's work folder, version control folders, cache folders and other
// backup plugins' archive folders.
const std::vector<std::string>& default_exclusions();

// A migration moves the site root only, and the walk leaves out links that point outside it. When wp-content or
// its uploads, plugins or themes folder is such a link (content kept on another disk), the site would arrive
// without it: throws Error(usage) naming the link and its target.
void refuse_content_linked_outside(const std::string& root);

// Calls visit for every entry below root (the root itself excluded), parents before children. Entries that
// cannot be exported (sockets, devices, unreadable folders) are reported through warn and skipped. Returns
// false when options.stop ended the walk, true when it is complete.
bool scan_tree(const std::string& root, const ScanOptions& options,
               const std::function<void(const ScanEntry&)>& visit,
               const std::function<void(const std::string&)>& warn);

}  // namespace sitelift
