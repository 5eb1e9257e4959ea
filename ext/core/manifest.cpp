#include "manifest.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <istream>

#include <openssl/evp.h>

#include "archive.hpp"
#include "error.hpp"
#include "version.hpp"

namespace sitelift {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorKind::archive, "manifest: " + what); }

template <typename T>
T field(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end()) bad(std::string("missing field '") + key + "'");
    try {
        return it->get<T>();
    } catch (const json::exception&) {
        bad(std::string("field '") + key + "' has the wrong type");
    }
}

template <typename T>
T optional_field(const json& j, const char* key, T fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    try {
        return it->get<T>();
    } catch (const json::exception&) {
        bad(std::string("field '") + key + "' has the wrong type");
    }
}

void put_bytes(json& j, const char* key, const std::string& value) {
    if (is_valid_utf8(value))
        j[key] = value;
    else
        j[std::string(key) + "_b64"] = base64_encode(value);
}

std::string get_bytes(const json& j, const char* key, bool required) {
    auto it = j.find(key);
    if (it != j.end()) {
        if (!it->is_string()) bad(std::string("field '") + key + "' has the wrong type");
        return it->get<std::string>();
    }
    std::string k64 = std::string(key) + "_b64";
    auto it64 = j.find(k64);
    if (it64 != j.end()) {
        std::string out;
        if (!it64->is_string() || !base64_decode(it64->get<std::string>(), out)) bad("field '" + k64 + "' is not base64");
        return out;
    }
    if (required) bad(std::string("missing field '") + key + "'");
    return {};
}

std::string iso8601_now() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

std::string base64_encode(const std::string& s) {
    std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
    out.resize(static_cast<size_t>(n));
    return out;
}

bool base64_decode(const std::string& s, std::string& out) {
    if (s.size() % 4 != 0) return false;
    out.assign(3 * s.size() / 4 + 1, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
    if (n < 0) return false;
    size_t len = static_cast<size_t>(n);
    if (!s.empty() && s[s.size() - 1] == '=') --len;  // EVP_DecodeBlock counts padding as zero bytes
    if (s.size() > 1 && s[s.size() - 2] == '=') --len;
    out.resize(len);
    return true;
}

json site_to_json(const SiteInfo& s) {
    return json{{"home", s.home},
                {"siteurl", s.siteurl},
                {"abspath", s.abspath},
                {"wp_version", s.wp_version},
                {"php_version", s.php_version},
                {"db_server", s.db_server},
                {"table_prefix", s.table_prefix},
                {"charset", s.charset},
                {"collate", s.collate},
                {"multisite", s.multisite},
                {"tables", s.tables}};
}

namespace {

// "HOST[:PORT][/PATH]" of a URL, lowercased host, without the scheme and trailing slashes.
std::string address_of(std::string url) {
    for (const char* scheme : {"https://", "http://", "//"}) {
        const size_t n = std::strlen(scheme);
        if (url.size() >= n && std::equal(scheme, scheme + n, url.begin(), [](char a, char b) {
                return a == std::tolower(static_cast<unsigned char>(b));
            })) {
            url.erase(0, n);
            break;
        }
    }
    while (!url.empty() && url.back() == '/') url.pop_back();
    const size_t slash = url.find('/');
    for (size_t i = 0; i < std::min(slash, url.size()); ++i)
        url[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(url[i])));
    return url;
}

}  // namespace

void refuse_moving_a_network(const SiteInfo& site, const std::string& to_url) {
    if (!site.multisite || address_of(site.home) == address_of(to_url)) return;
    throw Error(ErrorKind::usage,
                "the site is a WordPress multisite network; SiteLift moves single sites and restores a network only "
                "at its own address (" + site.home + "): at " + to_url + " its sites would still be looked up at "
                "the old one (wp_blogs, wp_site and wp-config.php keep it)");
}

SiteInfo site_from_json(const json& j) {
    if (!j.is_object()) bad("site description is not an object");
    SiteInfo s;
    s.home = field<std::string>(j, "home");
    s.siteurl = field<std::string>(j, "siteurl");
    s.abspath = field<std::string>(j, "abspath");
    s.wp_version = optional_field<std::string>(j, "wp_version", "");
    s.php_version = optional_field<std::string>(j, "php_version", "");
    s.db_server = optional_field<std::string>(j, "db_server", "");
    s.table_prefix = field<std::string>(j, "table_prefix");
    s.charset = optional_field<std::string>(j, "charset", "");
    s.collate = optional_field<std::string>(j, "collate", "");
    s.multisite = optional_field<bool>(j, "multisite", false);
    s.tables = field<std::vector<std::string>>(j, "tables");
    return s;
}

json entry_to_json(const EntryRecord& r) {
    json j = json::object();
    put_bytes(j, "path", r.path);
    j["type"] = r.type;
    if (r.type == "file") {
        j["size"] = r.size;
        j["sha256"] = r.sha256;
    }
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", r.mode & 07777);
    j["mode"] = mode;
    j["mtime"] = r.mtime;
    if (r.type == "symlink") put_bytes(j, "target", r.target);
    if (!r.table.empty()) {
        j["table"] = r.table;
        j["rows"] = r.rows;
        j["checksum"] = r.checksum;
    }
    return j;
}

EntryRecord entry_from_json(const json& j) {
    if (!j.is_object()) bad("entry is not an object");
    EntryRecord r;
    r.path = get_bytes(j, "path", true);
    r.type = field<std::string>(j, "type");
    if (r.type != "file" && r.type != "dir" && r.type != "symlink") bad("entry '" + r.path + "' has unknown type");
    if (r.type == "file") {
        r.size = field<uint64_t>(j, "size");
        r.sha256 = field<std::string>(j, "sha256");
    }
    std::string mode = field<std::string>(j, "mode");
    char* end = nullptr;
    unsigned long m = std::strtoul(mode.c_str(), &end, 8);
    if (mode.empty() || *end != '\0' || m > 07777) bad("entry '" + r.path + "' has a bad mode");
    r.mode = static_cast<uint32_t>(m);
    r.mtime = field<int64_t>(j, "mtime");
    if (r.type == "symlink") r.target = get_bytes(j, "target", true);
    r.table = optional_field<std::string>(j, "table", "");
    if (!r.table.empty()) {
        r.rows = field<uint64_t>(j, "rows");
        r.checksum = field<std::string>(j, "checksum");
    }
    return r;
}

std::string entry_difference(const EntryRecord& e, const EntryRecord& a) {
    if (e.path != a.path) return "the manifest lists '" + e.path + "' where the archive holds '" + a.path + "'";
    const std::string& p = a.path;
    if (e.type != a.type) return "'" + p + "' is a " + a.type + " but the manifest says " + e.type;
    if (e.size != a.size)
        return "'" + p + "' holds " + std::to_string(a.size) + " bytes but the manifest says " + std::to_string(e.size);
    if (e.sha256 != a.sha256) return "'" + p + "' does not match its SHA-256 in the manifest";
    if (e.mode != a.mode) return "'" + p + "' has a different mode than the manifest says";
    if (e.mtime != a.mtime) return "'" + p + "' has a different mtime than the manifest says";
    if (e.target != a.target) return "symlink '" + p + "' points elsewhere than the manifest says";
    if (e.table != a.table) return "'" + p + "' holds table '" + a.table + "' but the manifest says '" + e.table + "'";
    if (e.rows != a.rows)
        return "table '" + a.table + "' holds " + std::to_string(a.rows) + " rows but the manifest says " +
               std::to_string(e.rows);
    if (e.checksum != a.checksum) return "table '" + a.table + "' does not match its row checksum in the manifest";
    return {};
}

ManifestWriter::ManifestWriter() : spool_(std::tmpfile()) {
    if (!spool_) throw_errno(ErrorKind::io, "cannot create a temporary file for the manifest", errno);
}

ManifestWriter::ManifestWriter(const std::string& path, uint64_t bytes, uint64_t count, std::vector<std::string> warnings)
    : spool_(nullptr), spool_bytes_(bytes), count_(count), warnings_(std::move(warnings)) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) throw_errno(ErrorKind::io, "cannot open the manifest spool", errno);
    if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0 || ::lseek(fd, 0, SEEK_END) < 0) {
        int e = errno;
        ::close(fd);
        throw_errno(ErrorKind::io, "cannot open the manifest spool", e);
    }
    spool_ = ::fdopen(fd, "r+b");
    if (!spool_) {
        int e = errno;
        ::close(fd);
        throw_errno(ErrorKind::io, "cannot open the manifest spool", e);
    }
    if (std::fseek(spool_, 0, SEEK_END) != 0) throw_errno(ErrorKind::io, "cannot open the manifest spool", errno);
}

void ManifestWriter::sync() {
    if (std::fflush(spool_) != 0 || ::fsync(::fileno(spool_)) != 0)
        throw_errno(ErrorKind::io, "cannot write the manifest spool", errno);
}

ManifestWriter::~ManifestWriter() {
    if (spool_) std::fclose(spool_);
}

void ManifestWriter::add(const EntryRecord& r) {
    std::string line = (count_ == 0 ? "\n" : ",\n") + entry_to_json(r).dump();
    if (std::fwrite(line.data(), 1, line.size(), spool_) != line.size())
        throw_errno(ErrorKind::io, "cannot write the manifest spool", errno);
    spool_bytes_ += line.size();
    ++count_;
}

void ManifestWriter::warn(const std::string& message) {
    // A site with a million unreadable files must not make the manifest unbounded.
    if (warnings_.size() < 1000)
        warnings_.push_back(message);
    else if (warnings_.size() == 1000)
        warnings_.push_back("(further warnings omitted)");
}

std::string ManifestWriter::head(const SiteInfo& site, const json& extra) const {
    json head = json::object();
    head["format"] = "sitelift-archive";
    head["format_version"] = SITELIFT_ARCHIVE_FORMAT;
    head["generator"] = std::string("SiteLift ") + SITELIFT_VERSION;
    head["created"] = iso8601_now();
    head["site"] = site_to_json(site);
    head["options"] = extra;
    head["warnings"] = warnings_;
    head["entry_count"] = count_;
    // The entries go last: "{...head..., "entries":[" + spool + "\n]}".
    std::string prefix = head.dump(-1, ' ', false, json::error_handler_t::replace);
    prefix.pop_back();  // the closing brace
    prefix += ",\"entries\":[";
    return prefix;
}

void ManifestWriter::write_to(ArchiveWriter& out, const SiteInfo& site, const json& extra, int64_t mtime) {
    const std::string h = head(site, extra);
    write_range(out, "manifest.json", h, 0, text_size(h), mtime);
}

void ManifestWriter::write_range(ArchiveWriter& out, const std::string& path, const std::string& head, uint64_t from,
                                 uint64_t len, int64_t mtime) {
    if (from > text_size(head) || len > text_size(head) - from)
        throw Error(ErrorKind::state, "internal: a piece of manifest.json beyond its end");
    EntryInfo info;
    info.path = path;
    info.type = EntryType::file;
    info.size = len;
    info.mode = 0644;
    info.mtime = mtime;
    out.begin_entry(info);
    const uint64_t to = from + len;
    // The head's part of the range.
    if (from < head.size()) {
        const uint64_t n = std::min<uint64_t>(to, head.size()) - from;
        out.write_data(head.data() + from, n);
    }
    // The spool's part: [a, b) of the spool.
    const uint64_t a = std::clamp<uint64_t>(from, head.size(), head.size() + spool_bytes_) - head.size();
    const uint64_t b = std::clamp<uint64_t>(to, head.size(), head.size() + spool_bytes_) - head.size();
    if (b > a) {
        if (std::fflush(spool_) != 0 || ::fseeko(spool_, static_cast<off_t>(a), SEEK_SET) != 0)
            throw_errno(ErrorKind::io, "cannot rewind the manifest spool", errno);
        std::vector<char> buf(1 << 16);
        uint64_t left = b - a;
        while (left > 0) {
            size_t n = std::fread(buf.data(), 1, std::min<uint64_t>(buf.size(), left), spool_);
            if (n == 0) throw_errno(ErrorKind::io, "cannot read the manifest spool", errno ? errno : EIO);
            out.write_data(buf.data(), n);
            left -= n;
        }
    }
    // The tail's part.
    const uint64_t tail_at = head.size() + spool_bytes_;
    if (to > tail_at) {
        const uint64_t t0 = std::max(from, tail_at) - tail_at;
        out.write_data(kTail.data() + t0, static_cast<size_t>(to - tail_at - t0));
    }
    out.end_entry();
}

json parse_manifest(std::istream& in, const std::function<void(const EntryRecord&)>& on_entry) {
    bool in_entries = false;
    json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
        if (event == json::parse_event_t::key && depth == 1) {
            in_entries = parsed.is_string() && parsed.get<std::string>() == "entries";
        } else if (event == json::parse_event_t::object_end && depth == 2 && in_entries) {
            on_entry(entry_from_json(parsed));
            return false;  // drop it: the entries array never grows
        }
        return true;
    };
    try {
        json j = json::parse(in, cb);
        if (!j.is_object()) bad("not a JSON object");
        return j;
    } catch (const json::parse_error& e) {
        bad(std::string("not valid JSON (") + e.what() + ")");
    }
}

}  // namespace sitelift
