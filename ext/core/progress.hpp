// Progress reports from long-running engine work. Called on the caller's thread, between units of work.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace sitelift {

struct Progress {
    std::string phase;       // "database", "files", "verify", "swap", ...
    std::string item;        // current table or file
    uint64_t done = 0;       // bytes done in this job
    uint64_t total = 0;      // bytes expected (0: unknown)
};

using ProgressFn = std::function<void(const Progress&)>;

}  // namespace sitelift
