// Measures the rewriter over the string values of a SQL dump (as written by mariadb-dump).
//
//   sl_rewrite_bench --from URL [--from URL ...] --to URL [--from-path P --to-path P]
//                    [--repeat N] [--values-out FILE] [--pairs-out FILE] DUMP.sql
//
// Reads the dump line by line, takes every quoted string literal of its INSERT statements, unescapes it
// and hands the values, in batches of about 8 MB, to Rewriter::rewrite() `repeat` times. Only the
// rewrite loop is timed (not reading or parsing the SQL), in CPU time of the process. With --values-out the raw values are also
// written (each as a 4-byte little-endian length and the bytes) for the PHP pass of bench/rewrite, and
// with --pairs-out the expanded search/replace pairs (search, then replace, in the same framing).
//
// Prints one line of key=value pairs: values, bytes, changed, skipped_unsafe, seconds, mb_per_s,
// peak_rss_kb. Memory stays at one batch plus the longest dump line, whatever the dump's size.
#include "error.hpp"
#include "rewrite.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <ctime>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void usage(const char* msg) {
    std::fprintf(stderr, "sl_rewrite_bench: %s\n", msg);
    std::fprintf(stderr,
                 "usage: sl_rewrite_bench --from URL [--from URL ...] --to URL [--from-path P --to-path P]\n"
                 "                        [--repeat N] [--values-out FILE] [--pairs-out FILE] DUMP.sql\n");
    std::exit(2);
}

// Calls emit(value) for every single-quoted literal in a line of an INSERT, unescaped as MariaDB does.
template <class Emit>
void extract_values(const std::string& line, std::string& buf, Emit&& emit) {
    const size_t n = line.size();
    size_t i = 0;
    while (i < n) {
        const char c = line[i];
        if (c != '\'') {
            ++i;
            continue;
        }
        buf.clear();
        ++i;
        while (i < n) {
            const char d = line[i];
            if (d == '\\' && i + 1 < n) {
                const char e = line[i + 1];
                switch (e) {
                    case '0': buf += '\0'; break;
                    case 'n': buf += '\n'; break;
                    case 'r': buf += '\r'; break;
                    case 't': buf += '\t'; break;
                    case 'b': buf += '\b'; break;
                    case 'Z': buf += '\x1a'; break;
                    default: buf += e; break;  // \\ \' \" and anything else: the character itself
                }
                i += 2;
            } else if (d == '\'') {
                if (i + 1 < n && line[i + 1] == '\'') {  // '' inside a literal
                    buf += '\'';
                    i += 2;
                } else {
                    ++i;
                    break;
                }
            } else {
                buf += d;
                ++i;
            }
        }
        emit(buf);
    }
}

void write_framed(std::FILE* f, const std::string& v) {
    const uint32_t len = static_cast<uint32_t>(v.size());
    const unsigned char le[4] = {static_cast<unsigned char>(len), static_cast<unsigned char>(len >> 8),
                                 static_cast<unsigned char>(len >> 16), static_cast<unsigned char>(len >> 24)};
    std::fwrite(le, 1, 4, f);
    std::fwrite(v.data(), 1, v.size(), f);
}

// CPU time of this process: the figure is "per core" and does not depend on what else the machine runs.
double cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long peak_rss_kb() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
    sitelift::SiteMove move;
    int repeat = 1;
    std::string dump, values_out, pairs_out;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) usage(("missing value for " + a).c_str());
            return argv[++i];
        };
        if (a == "--from") move.from_urls.push_back(next());
        else if (a == "--to") move.to_url = next();
        else if (a == "--from-path") move.from_path = next();
        else if (a == "--to-path") move.to_path = next();
        else if (a == "--repeat") repeat = std::max(1, std::atoi(next().c_str()));
        else if (a == "--values-out") values_out = next();
        else if (a == "--pairs-out") pairs_out = next();
        else if (!a.empty() && a[0] == '-') usage(("unknown option " + a).c_str());
        else dump = a;
    }
    if (dump.empty()) usage("no dump file");

    try {
        const sitelift::Rewriter rewriter = sitelift::Rewriter::for_site_move(move);
        if (!pairs_out.empty()) {
            std::FILE* pf = std::fopen(pairs_out.c_str(), "wb");
            if (!pf) usage(("cannot write " + pairs_out).c_str());
            for (const auto& [s, r] : rewriter.pairs()) write_framed(pf, s), write_framed(pf, r);
            std::fclose(pf);
        }
        std::ifstream in(dump, std::ios::binary);
        if (!in) usage(("cannot open " + dump).c_str());
        std::FILE* vout = nullptr;
        if (!values_out.empty()) {
            vout = std::fopen(values_out.c_str(), "wb");
            if (!vout) usage(("cannot write " + values_out).c_str());
        }

        constexpr size_t kBatchBytes = 8u << 20;
        std::vector<std::string> batch;
        size_t batch_bytes = 0;
        sitelift::RewriteReport report;
        uint64_t values = 0, bytes = 0;
        double seconds = 0;
        std::string out;
        uint64_t checksum = 0;  // keeps the optimizer honest

        auto run_batch = [&]() {
            for (int r = 0; r < repeat; ++r) {
                sitelift::RewriteReport* rep = r == 0 ? &report : nullptr;
                const double t0 = cpu_seconds();
                for (const std::string& v : batch) {
                    if (rewriter.rewrite(v, out, rep)) checksum += out.size();
                }
                seconds += cpu_seconds() - t0;
            }
            for (const std::string& v : batch) values += 1, bytes += v.size();
            batch.clear();
            batch_bytes = 0;
        };

        // An INSERT runs from a line starting "INSERT " to a line ending in ';' (mariadb-dump writes a
        // statement on one line or one row per line; newlines inside literals are escaped as \n).
        std::string line, buf;
        bool in_insert = false;
        while (std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!in_insert && line.compare(0, 7, "INSERT ") != 0) continue;
            in_insert = line.empty() || line.back() != ';';
            extract_values(line, buf, [&](const std::string& v) {
                batch.push_back(v);
                batch_bytes += v.size() + 32;
                if (vout) write_framed(vout, v);
            });
            if (batch_bytes >= kBatchBytes) run_batch();
        }
        run_batch();
        if (vout) std::fclose(vout);

        const double total = static_cast<double>(bytes) * repeat;
        std::printf("values=%llu bytes=%llu repeat=%d changed=%llu skipped_unsafe=%llu seconds=%.6f mb_per_s=%.1f "
                    "peak_rss_kb=%ld pairs=%zu checksum=%llu\n",
                    static_cast<unsigned long long>(values), static_cast<unsigned long long>(bytes), repeat,
                    static_cast<unsigned long long>(report.values_changed),
                    static_cast<unsigned long long>(report.values_skipped_unsafe), seconds,
                    seconds > 0 ? total / seconds / 1e6 : 0.0, peak_rss_kb(), rewriter.pairs().size(),
                    static_cast<unsigned long long>(checksum));
    } catch (const sitelift::Error& e) {
        std::fprintf(stderr, "sl_rewrite_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
