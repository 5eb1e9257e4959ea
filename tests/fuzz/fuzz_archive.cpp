// libFuzzer target: what an import does with an archive it was handed, up to the disk (scripts/fuzz).
//
// The input is read as an archive (any compression libarchive recognises, tar or not) with tight limits; every
// entry's path goes through safe_relative_path() and every link's target through symlink_target_escapes(),
// and the entry's data is read to its end. Errors must be sitelift::Error. What the path check lets through
// must be a canonical relative path (no empty, "." or ".." component, no NUL, not absolute), and a link
// target found not to escape must stay below the root when resolved from the link's folder.
//
// The same input, split at its first NUL, is also given to those two checks directly, and as a pattern and a
// path to GlobPattern (compiled, with its shortcuts) and glob_match() (the plain matcher), which must agree.
#include "archive.hpp"
#include "error.hpp"
#include "path_safety.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "fuzz_archive: %s\n", what.c_str());
    std::abort();
}

std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
        const size_t slash = path.find('/', start);
        parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
        if (slash == std::string::npos) return parts;
        start = slash + 1;
    }
}

void check_safe_path(const std::string& stored) {
    std::string path;
    try {
        path = sitelift::safe_relative_path(stored);
    } catch (const sitelift::Error&) {
        return;
    }
    if (path.empty() || path[0] == '/' || path.find('\0') != std::string::npos) fail("unsafe path accepted: " + path);
    for (const std::string& c : components(path))
        if (c.empty() || c == "." || c == "..") fail("path with an empty, '.' or '..' component accepted: " + path);
}

// Depth below the root of link_path's folder after following target by name; -1 once it climbs above.
void check_link(const std::string& link, const std::string& target) {
    if (sitelift::symlink_target_escapes(link, target)) return;
    if (target.empty() || target[0] == '/') fail("absolute or empty link target accepted: " + target);
    long depth = static_cast<long>(components(sitelift::safe_relative_path(link)).size()) - 1;
    for (const std::string& c : components(target)) {
        if (c == "..") --depth;
        else if (!c.empty() && c != ".") ++depth;
        if (depth < 0) fail("link " + link + " -> " + target + " climbs above the root but was accepted");
    }
}

// The input split at its first NUL: a glob pattern and a path; a link's path and its target.
void check_pairs(const uint8_t* data, size_t size) {
    const char* p = reinterpret_cast<const char*>(data);
    const void* nul = std::memchr(p, 0, size);
    if (!nul) return;
    const size_t split = static_cast<size_t>(static_cast<const char*>(nul) - p);
    const std::string first(p, split), second(p + split + 1, size - split - 1);
    const sitelift::GlobPattern compiled(first);
    if (compiled.matches(second) != sitelift::glob_match(first, second))
        fail("GlobPattern and glob_match disagree on pattern '" + first + "' and path '" + second + "'");
    check_safe_path(first);
    try {
        sitelift::safe_relative_path(first);
    } catch (const sitelift::Error&) {
        return;
    }
    check_link(first, second);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    check_pairs(data, size);
    size_t at = 0;
    sitelift::ReaderLimits limits;
    limits.max_total_bytes = 1u << 20;
    limits.max_entries = 1000;
    try {
        sitelift::ArchiveReader reader(
            [&](void* buf, size_t cap) {
                const size_t n = std::min(cap, size - at);
                std::memcpy(buf, data + at, n);
                at += n;
                return n;
            },
            limits);
        sitelift::EntryInfo e;
        char buf[4096];
        while (reader.next(e)) {
            check_safe_path(e.path);
            if (e.type == sitelift::EntryType::symlink) {
                try {
                    sitelift::safe_relative_path(e.path);
                } catch (const sitelift::Error&) {
                    continue;
                }
                check_link(e.path, e.link_target);
            }
            while (reader.read(buf, sizeof buf) > 0) {
            }
        }
    } catch (const sitelift::Error&) {
    }
    return 0;
}
