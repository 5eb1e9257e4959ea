// Push: the source side of a migration straight to another WordPress install (see docs/push-design.md).
//
// The export is cut into self-contained segments (each a complete tar, zstd-compressed), sealed with the
// machine token's key and sent one by one to the destination's REST routes, which apply each on arrival.
// Everything the next step needs is on disk in <root>/.sitelift/push/, so a step can run in any process: the
// CLI runs them back to back (push_run), the admin screens one per request or cron event (push_step).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "db.hpp"
#include "progress.hpp"

namespace sitelift {

struct PushOptions {
    std::string root;          // WordPress root of the source
    DbConfig db;
    std::string table_prefix = "wp_";
    std::string token;         // the destination's machine token (never logged)
    std::string site_name;     // the destination's site name, as its admin gave it
    std::vector<std::string> excludes;
    bool default_excludes = true;
    bool all_tables = false;
    std::string wp_version, php_version, charset, collate;
    bool multisite = false;
    bool restart = false;      // forget an earlier push from this site first
    ProgressFn progress;       // push_run only
    // Tests and benchmarks: largest sealed part to send (0: what the destination reports).
    uint64_t max_part_bytes = 0;
};

// Runs the push until the destination is live (returns the job state) or a permanent error stops it
// (Error). Transient failures (connection, timeout, 429, 5xx) are retried with backoff for up to
// retry_seconds. One database snapshot serves the whole run.
nlohmann::json push_run(const PushOptions& options, double retry_seconds = 600);

// Advances the push by about `seconds` (at least one request), then returns the job state. A transient
// failure ends the step early with "retry" set in the state; a permanent one sets phase "failed".
nlohmann::json push_step(const PushOptions& options, double seconds);

// The job state ({} when this site never pushed).
nlohmann::json push_state(const std::string& root);

// Forgets the push (its state and pending segment); the destination keeps nothing it has not finalized.
void push_cancel(const std::string& root);

}  // namespace sitelift
