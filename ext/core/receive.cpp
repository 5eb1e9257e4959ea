#include "receive.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <fstream>
#include <optional>
#include <thread>

#include <sys/statvfs.h>

#include "crypto.hpp"
#include "error.hpp"
#include "path_safety.hpp"
#include "sha256.hpp"
#include "version.hpp"
#include "workdir.hpp"

namespace sitelift {

using nlohmann::json;

namespace {

constexpr const char* kTokenOption = "sitelift_token";
constexpr int64_t kNonceSeconds = 660;        // longer than twice the allowed clock skew
constexpr int64_t kFailureWindow = 600;
constexpr size_t kMaxFailures = 20;           // per claimed token id and window, then 429 without looking
constexpr int64_t kIdleJobSeconds = 900;      // a job silent this long may be replaced by another

int64_t now_s() { return static_cast<int64_t>(std::time(nullptr)); }

std::string options_table(const SiteTarget& t) { return quote_identifier(t.table_prefix + "options"); }

json load_token(Connection& conn, const SiteTarget& t) {
    auto v = conn.scalar("SELECT option_value FROM " + options_table(t) + " WHERE option_name = '" +
                         std::string(kTokenOption) + "'");
    if (!v || v->empty()) return json::object();
    try {
        json j = json::parse(*v);
        return j.is_object() ? j : json::object();
    } catch (const json::exception&) {
        return json::object();
    }
}

void store_token(Connection& conn, const SiteTarget& t, const json& record) {
    conn.execute("INSERT INTO " + options_table(t) + " (option_name, option_value, autoload) VALUES ('" +
                 std::string(kTokenOption) + "', " + conn.quote(record.dump()) +
                 ", 'no') ON DUPLICATE KEY UPDATE option_value = VALUES(option_value)");
}

// ---- replay and failure memory: <root>/.sitelift/guard.json, under its own short lock -------------------------

class Guard {
public:
    explicit Guard(const std::string& root)
        : work_(root + "/.sitelift"), path_(work_ + "/guard.json"),
          lock_((ensure_work_dir(work_), work_ + "/guard.lock"), "busy", true) {
        std::ifstream in(path_);
        if (in) {
            try {
                data_ = json::parse(in);
            } catch (const json::exception&) {
                data_ = json::object();
            }
        }
        if (!data_.is_object()) data_ = json::object();
        if (!data_["nonces"].is_object()) data_["nonces"] = json::object();
        if (!data_["failures"].is_object()) data_["failures"] = json::object();
        const int64_t now = now_s();
        json& nonces = data_["nonces"];
        for (auto it = nonces.begin(); it != nonces.end();)
            it = (it->is_number() && now - it->get<int64_t>() < kNonceSeconds) ? std::next(it) : nonces.erase(it);
        json& failures = data_["failures"];
        for (auto it = failures.begin(); it != failures.end();) {
            json kept = json::array();
            if (it->is_array())
                for (const auto& t : *it)
                    if (t.is_number() && now - t.get<int64_t>() < kFailureWindow) kept.push_back(t);
            if (kept.empty()) {
                it = failures.erase(it);
            } else {
                *it = kept;
                ++it;
            }
        }
    }

    bool throttled(const std::string& id) const {
        const json& f = data_["failures"];
        return f.contains(key(id)) && f[key(id)].size() >= kMaxFailures;
    }
    void failed(const std::string& id) {
        json& f = data_["failures"][key(id)];
        if (!f.is_array()) f = json::array();
        f.push_back(now_s());
        save();
    }
    bool seen_nonce(const std::string& nonce) const { return data_["nonces"].contains(nonce); }
    // False when the nonce was seen; records it otherwise.
    bool fresh_nonce(const std::string& nonce) {
        if (data_["nonces"].contains(nonce)) return false;
        data_["nonces"][nonce] = now_s();
        save();
        return true;
    }

private:
    // Failures are counted per claimed token id (hashed: whatever a client sends never lands in the file as is).
    static std::string key(const std::string& id) { return Sha256::hex(id).substr(0, 16); }
    // Not fsynced (it is rewritten on every request): a power cut may forget the last nonces, and a request
    // replayed after that still applies nothing twice (parts are applied once per index, finalize once).
    void save() { write_file_atomic(path_, data_.dump() + "\n", false); }

    std::string work_, path_;
    FileLock lock_;
    json data_;
};

ReceiveResponse answer(int status, const std::string& code, const std::string& message = "") {
    ReceiveResponse r;
    r.status = status;
    r.body = {{"code", code}};
    if (!message.empty()) r.body["message"] = message;
    return r;
}

std::string header(const ReceiveRequest& req, const char* name) {
    auto it = req.headers.find(name);
    return it == req.headers.end() ? std::string() : it->second;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The REST route a request-target names: "/?rest_route=/sitelift/v1/..." or "/wp-json/sitelift/v1/...".
std::string route_of(const std::string& target) {
    std::string route;
    size_t q = target.find('?');
    if (q != std::string::npos) {
        std::string query = target.substr(q + 1);
        size_t pos = 0;
        while (pos <= query.size()) {
            size_t amp = query.find('&', pos);
            std::string kv = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
            if (kv.rfind("rest_route=", 0) == 0) {
                std::string raw = kv.substr(11);
                for (size_t i = 0; i < raw.size(); ++i) {
                    if (raw[i] == '%' && i + 2 < raw.size() + 0 && hex_value(raw[i + 1]) >= 0 && hex_value(raw[i + 2]) >= 0) {
                        route.push_back(static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2])));
                        i += 2;
                    } else {
                        route.push_back(raw[i] == '+' ? ' ' : raw[i]);
                    }
                }
                return route;
            }
            if (amp == std::string::npos) break;
            pos = amp + 1;
        }
    }
    std::string path = target.substr(0, q);
    size_t wj = path.find("/wp-json/");
    if (wj != std::string::npos) return path.substr(wj + 8);
    return {};
}

std::vector<std::string> split_route(const std::string& route) {
    std::vector<std::string> parts;
    size_t pos = 0;
    while (pos < route.size()) {
        size_t slash = route.find('/', pos);
        if (slash == std::string::npos) slash = route.size();
        if (slash > pos) parts.push_back(route.substr(pos, slash - pos));
        pos = slash + 1;
    }
    return parts;
}

bool valid_job_id(const std::string& s) {
    if (s.size() != 32) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

bool same_name(const std::string& a, const std::string& b) {
    auto trim = [](const std::string& s) {
        size_t x = s.find_first_not_of(" \t\r\n"), y = s.find_last_not_of(" \t\r\n");
        return x == std::string::npos ? std::string() : s.substr(x, y - x + 1);
    };
    std::string l = trim(a), r = trim(b);
    if (l.size() != r.size()) return false;
    for (size_t i = 0; i < l.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(l[i])) != std::tolower(static_cast<unsigned char>(r[i]))) return false;
    return true;
}

uint64_t free_disk(const std::string& path) {
    struct statvfs vfs;
    if (::statvfs(path.c_str(), &vfs) != 0) return 0;
    return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

ImportOptions import_options(const ReceiveSite& site) {
    ImportOptions o;
    o.target = site.target;
    o.url = site.url;
    o.keep = site.keep;
    return o;
}

// The job record as the source may see it.
json job_view(const json& st) {
    json out = {{"job", st.value("job", "")},
                {"phase", st.value("phase", "")},
                {"next_index", st.value("next_index", 0)},
                {"bytes", st.value("bytes", 0)}};
    if (st.contains("result")) out["result"] = st["result"];
    if (!st.value("error", std::string()).empty()) out["error"] = st["error"];
    return out;
}

// Maps an engine error while handling an authenticated request to an answer.
ReceiveResponse error_answer(const Error& e) {
    const std::string msg = e.what();
    switch (e.kind()) {
        case ErrorKind::state:
            if (msg.find("another SiteLift job is running") != std::string::npos)
                return answer(503, "sitelift_busy_now", "the destination is busy with the previous request");
            if (msg.find("arrived before") != std::string::npos) return answer(409, "sitelift_out_of_order", msg);
            return answer(409, "sitelift_state", msg);
        case ErrorKind::io:
            if (msg.find("disk") != std::string::npos) return answer(507, "sitelift_disk_full", msg);
            return answer(500, "sitelift_io", msg);
        case ErrorKind::database:
            return answer(503, "sitelift_database", msg);
        case ErrorKind::usage:
            return answer(400, "sitelift_usage", msg);
        default:
            return answer(422, "sitelift_refused", msg);
    }
}

ReceiveResponse handle(const ReceiveSite& site, ReceiveRequest& req, const json& token,
                       const std::vector<std::string>& parts) {
    const std::string root = real_site_root(site.target.root);
    const ImportOptions io = import_options(site);
    // parts: sitelift, v1, jobs[, job[, parts, index | finalize]]
    if (parts.size() == 3 && req.method == "POST") {
        json body;
        try {
            body = json::parse(req.payload());
        } catch (const json::exception&) {
            return answer(400, "sitelift_bad_request", "the handshake is not JSON");
        }
        if (!body.is_object() || !body.contains("job") || !body["job"].is_string() || !valid_job_id(body["job"]))
            return answer(400, "sitelift_bad_request", "the handshake names no valid job");
        const std::string job = body["job"];
        const std::string name = body.value("site_name", "");
        if (!same_name(name, token.value("site_name", "")))
            return answer(409, "sitelift_wrong_site",
                          "wrong site name: this destination is '" + token.value("site_name", std::string()) +
                              "', the push names '" + name + "'; nothing was changed");
        json st = receive_state(root);
        if (st.value("job", "") != job) {
            const bool active = st.value("phase", "") == "receiving" || st.value("phase", "") == "finalizing";
            if (active && now_s() - st.value("updated_at", int64_t(0)) < kIdleJobSeconds)
                return answer(409, "sitelift_busy",
                              "another migration is being received by this destination right now; wait for it to "
                              "finish (or cancel it there)");
            json source = body.value("source", json::object());
            st = receive_begin(io, job, source.is_object() ? source : json::object());
        }
        json limits = site.limits.is_object() ? site.limits : json::object();
        limits["free_disk"] = free_disk(root);
        limits["min_free_disk"] = io.min_free_bytes;  // receiving stops below this (the live site's room)
        ReceiveResponse r = answer(200, "sitelift_ok");
        r.body.update(job_view(st));
        r.body["limits"] = limits;
        r.body["destination"] = {{"url", st.value("destination_url", "")},
                                 {"site_name", token.value("site_name", "")},
                                 {"sitelift", SITELIFT_VERSION},
                                 {"wp_version", limits.value("wp_version", "")},
                                 {"php_version", limits.value("php_version", "")},
                                 {"db_server", limits.value("db_server", "")}};
        return r;
    }
    if (parts.size() < 4 || !valid_job_id(parts[3])) return answer(404, "sitelift_no_route", "no such route");
    const std::string job = parts[3];
    json st = receive_state(root);
    if (st.value("job", "") != job)
        return answer(409, "sitelift_unknown_job", "this destination is not receiving that migration (any more)");
    if (parts.size() == 4 && req.method == "GET") {
        ReceiveResponse r = answer(200, "sitelift_ok");
        r.body.update(job_view(st));
        return r;
    }
    if (parts.size() == 6 && parts[4] == "parts" && req.method == "PUT") {
        uint64_t index = 0;
        const std::string& n = parts[5];
        if (n.empty() || n.size() > 12 || (n.size() > 1 && n[0] == '0') ||
            !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return answer(400, "sitelift_bad_request", "bad part number");
        index = std::stoull(n);
        Keys keys;
        if (!hex_decode(token.value("enc", ""), keys.enc)) return answer(500, "sitelift_token_damaged", "token record damaged");
        return_large_blocks_to_the_system();  // a part's buffers are several MB each
        // A body the engine owns is decrypted where it lies (a part then exists once in this worker's memory);
        // one seen through a view is decrypted into a buffer of its own. Either is wiped however this ends.
        OpenedPart copy;
        OpenedPartView part;
        struct Wipe {
            std::string& a;
            std::string& b;
            ~Wipe() {
                secure_wipe(a);
                secure_wipe(b);
            }
        } wipe{copy.plaintext, req.body};
        try {
            if (req.body_view.data()) {
                copy = open_part(keys.enc, job, req.body_view);
                part = {copy.index, copy.last, copy.plaintext};
            } else {
                part = open_part_in_place(keys.enc, job, req.body);
            }
        } catch (const Error&) {
            return answer(400, "sitelift_part_unauthenticated",
                          "the part failed authentication (changed in transit or sealed with another key); nothing "
                          "was applied");
        }
        if (part.index != index) return answer(400, "sitelift_part_unauthenticated", "the part's number does not match");
        st = receive_apply(io, job, index, part.plaintext);
        ReceiveResponse r = answer(200, "sitelift_ok");
        r.body.update(job_view(st));
        return r;
    }
    if (parts.size() == 5 && parts[4] == "finalize" && req.method == "POST") {
        st = receive_finish(io, job);
        ReceiveResponse r = answer(200, "sitelift_ok");
        r.body.update(job_view(st));
        return r;
    }
    return answer(404, "sitelift_no_route", "no such route");
}

}  // namespace

namespace {

// Checks everything about who sent the request. Returns an answer for a refused request, or nothing. With
// record_nonce the nonce is remembered (and a seen one refused); without, a seen one is refused only.
std::optional<ReceiveResponse> authenticate(const ReceiveSite& site, const ReceiveRequest& req, json& token,
                                            bool record_nonce) {
    const std::string root = real_site_root(site.target.root);
    const std::string id = header(req, "x-sitelift-token");
    const std::string ts_text = header(req, "x-sitelift-timestamp");
    const std::string nonce = header(req, "x-sitelift-nonce");
    const std::string sig = header(req, "x-sitelift-signature");
    if (id.empty() || ts_text.empty() || nonce.empty() || sig.empty())
        return answer(401, "sitelift_unsigned", "the request is not signed with a machine token");

    Connection conn(site.target.db);
    token = load_token(conn, site.target);
    {
        Guard guard(root);
        if (guard.throttled(id))
            return answer(429, "sitelift_throttled", "too many failed attempts; try again in a few minutes");
        auto refuse = [&](const std::string& code, const std::string& message) {
            guard.failed(id);
            std::this_thread::sleep_for(std::chrono::milliseconds(500));  // slows guessing down
            return answer(401, code, message);
        };
        if (token.empty()) return refuse("sitelift_no_token", "this site has no machine token; generate one");
        if (!constant_time_equal(id, token.value("id", "")))
            return refuse("sitelift_bad_token", "the machine token is not this site's current token");
        int64_t ts = 0;
        if (ts_text.size() > 12 || !std::all_of(ts_text.begin(), ts_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return refuse("sitelift_bad_signature", "bad timestamp");
        ts = std::stoll(ts_text);
        if (!timestamp_fresh(ts, now_s()))
            return refuse("sitelift_stale", "the request's time is more than 5 minutes off; check both clocks");
        std::string mac;
        if (!hex_decode(token.value("mac", ""), mac) || mac.size() != 32)
            return answer(500, "sitelift_token_damaged", "the token record is damaged; generate a new token");
        const std::string body_hash = req.body_sha256.empty() ? Sha256::hex(req.payload()) : req.body_sha256;
        const bool ok = verify_request(mac, req.method, req.target, ts, nonce, body_hash, sig);
        secure_wipe(mac);
        if (!ok) return refuse("sitelift_bad_signature", "the request's signature does not match the machine token");
        if (record_nonce ? !guard.fresh_nonce(nonce) : guard.seen_nonce(nonce))
            return refuse("sitelift_replayed", "this request was already received");
        if (token.value("revoked", false))
            return answer(403, "sitelift_token_revoked", "the machine token was revoked on the destination");
        if (now_s() >= token.value("expires_at", int64_t(0)))
            return answer(403, "sitelift_token_expired", "the machine token has expired; generate a new one");
    }
    return std::nullopt;
}

std::vector<std::string> route_parts(const ReceiveRequest& req) { return split_route(route_of(req.target)); }

bool our_route(const std::vector<std::string>& parts) {
    return parts.size() >= 3 && parts[0] == "sitelift" && parts[1] == "v1" && parts[2] == "jobs";
}

}  // namespace

std::optional<ReceiveResponse> receive_authenticate(const ReceiveSite& site, const ReceiveRequest& req) {
    if (!our_route(route_parts(req))) return answer(404, "sitelift_no_route", "no such route");
    json token;
    return authenticate(site, req, token, false);
}

ReceiveResponse receive_request(const ReceiveSite& site, ReceiveRequest req) {
    std::vector<std::string> parts = route_parts(req);
    if (!our_route(parts)) return answer(404, "sitelift_no_route", "no such route");
    json token;
    if (auto refused = authenticate(site, req, token, true)) return *refused;
    try {
        return handle(site, req, token, parts);
    } catch (const Error& e) {
        return error_answer(e);
    }
}

json token_create(const SiteTarget& target, const std::string& url, const std::string& site_name, int64_t ttl) {
    if (ttl < 60 || ttl > 30 * 86400) throw Error(ErrorKind::usage, "the token's lifetime must be 1 minute to 30 days");
    if (site_name.empty()) throw Error(ErrorKind::usage, "the site name must not be empty");
    const int64_t now = now_s();
    TokenInfo info;
    std::string token = make_token(url, site_name, now + ttl, &info);
    Keys keys = derive_keys(info.secret, info.token_id);
    json record = {{"v", 1},
                   {"id", info.token_id},
                   {"url", url},
                   {"site_name", site_name},
                   {"created_at", now},
                   {"expires_at", now + ttl},
                   {"revoked", false},
                   {"fingerprint", token_fingerprint(info)},
                   {"mac", hex_encode(keys.mac)},
                   {"enc", hex_encode(keys.enc)}};
    Connection conn(target.db);
    store_token(conn, target, record);
    json out = {{"token", token}, {"fingerprint", record["fingerprint"]}, {"url", url}, {"site_name", site_name},
                {"expires_at", now + ttl}};
    secure_wipe(token);
    return out;
}

void token_revoke(const SiteTarget& target) {
    Connection conn(target.db);
    json record = load_token(conn, target);
    if (record.empty()) throw Error(ErrorKind::state, "this site has no machine token to revoke");
    record["revoked"] = true;
    record["revoked_at"] = now_s();
    store_token(conn, target, record);
}

json token_info(const SiteTarget& target) {
    Connection conn(target.db);
    json record = load_token(conn, target);
    if (record.empty()) return json::object();
    json out = {{"fingerprint", record.value("fingerprint", "")},
                {"url", record.value("url", "")},
                {"site_name", record.value("site_name", "")},
                {"created_at", record.value("created_at", 0)},
                {"expires_at", record.value("expires_at", 0)},
                {"expired", now_s() >= record.value("expires_at", int64_t(0))},
                {"revoked", record.value("revoked", false)}};
    json st = receive_state(target.root);
    if (!st.empty()) {
        json job = {{"id", st.value("job", "")},
                    {"phase", st.value("phase", "")},
                    {"next_index", st.value("next_index", 0)},
                    {"bytes", st.value("bytes", 0)},
                    {"started_at", st.value("started_at", 0)},
                    {"updated_at", st.value("updated_at", 0)},
                    {"source_url", st.value("source_url", "")},
                    {"source", st.value("source", json::object())},
                    {"error", st.value("error", "")}};
        if (st.contains("result")) job["result"] = st["result"];
        if (st.contains("counts")) job["counts"] = st["counts"];
        out["job"] = job;
    } else {
        out["job"] = json::object();
    }
    return out;
}

void token_delete(const SiteTarget& target) {
    Connection conn(target.db);
    conn.execute("DELETE FROM " + options_table(target) + " WHERE option_name = '" + std::string(kTokenOption) + "'");
}

}  // namespace sitelift
