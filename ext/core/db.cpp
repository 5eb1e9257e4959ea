// MariaDB Connector/C connection wrapper and WordPress DB_HOST parsing.
#include "db.hpp"

#include <mysql.h>

#include <cstring>
#include <mutex>

#include "error.hpp"

namespace sitelift {

namespace {

std::once_flag g_library_once;

void ensure_library() {
    // Initialised on first use, never when the extension is loaded: PHP may load us in processes that never
    // touch a database. std::call_once retries if the initialiser throws.
    std::call_once(g_library_once, [] {
        if (mysql_library_init(0, nullptr, nullptr) != 0)
            throw Error(ErrorKind::database, "MariaDB client library initialisation failed");
    });
}

bool is_localhost(const std::string& host) { return host.empty() || host == "localhost"; }

// A short description of a statement for error messages: its leading words, cut before the first quote so
// that no literal (which may hold a secret or user data) ends up in a message.
std::string describe_statement(std::string_view sql) {
    std::string out;
    for (char c : sql) {
        if (c == '\'' || c == '"' || out.size() >= 60) {
            out += "...";
            break;
        }
        unsigned char u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) c = ' ';
        if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
        out += c;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

[[noreturn]] void throw_db(MYSQL* mysql, const std::string& operation) {
    std::string msg = operation + " failed: ";
    msg += mysql_error(mysql);
    msg += " (error " + std::to_string(mysql_errno(mysql)) + ")";
    throw Error(ErrorKind::database, msg);
}

// Frees any result the statement produced (including further result sets) so the connection is ready again.
void drain_results(MYSQL* mysql, std::string_view sql) {
    for (;;) {
        MYSQL_RES* res = mysql_store_result(mysql);
        if (res) {
            mysql_free_result(res);
        } else if (mysql_field_count(mysql) != 0) {
            throw_db(mysql, "reading result of `" + describe_statement(sql) + "`");
        }
        int next = mysql_next_result(mysql);
        if (next == -1) return;
        if (next > 0) throw_db(mysql, "query `" + describe_statement(sql) + "`");
    }
}

// "[0-9]+" prefix as an unsigned, saturating (WordPress uses absint(); mysqli then rejects silly ports).
unsigned parse_port_digits(std::string_view s) {
    unsigned long v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') break;
        v = v * 10 + static_cast<unsigned>(c - '0');
        if (v > 0xFFFFFFFFul) v = 0xFFFFFFFFul;
    }
    return static_cast<unsigned>(v);
}

size_t digit_run(std::string_view s, size_t pos) {
    size_t n = 0;
    while (pos + n < s.size() && s[pos + n] >= '0' && s[pos + n] <= '9') ++n;
    return n;
}

bool is_hex_or_colon(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':';
}

}  // namespace

// Mirrors wpdb::parse_db_host() (WordPress 4.9+):
//   1. peel off the socket from the first ":/" on;
//   2. more than one ':' left means IPv6: ^\[?(?<host>[0-9a-fA-F:]+)(?:\]:(?<port>\d+))?
//      otherwise:                        ^(?<host>[^:/]*)(?::(?<port>\d+))?
//   3. an empty host or port becomes null; when the IPv6 pattern does not match, WordPress falls back to the
//      raw DB_HOST with no port and no socket.
void apply_wp_db_host(DbConfig& cfg, std::string_view db_host) {
    std::string_view host = db_host;
    std::string socket;
    size_t socket_pos = host.find(":/");
    if (socket_pos != std::string_view::npos) {
        socket = std::string(host.substr(socket_pos + 1));
        host = host.substr(0, socket_pos);
    }

    std::string_view h, port;
    size_t colons = 0;
    for (char c : host) colons += (c == ':');
    if (colons > 1) {
        size_t p = 0;
        if (p < host.size() && host[p] == '[') ++p;
        size_t start = p;
        while (p < host.size() && is_hex_or_colon(host[p])) ++p;
        if (p == start) {  // preg_match failed: WordPress keeps DB_HOST as it is
            cfg.host = std::string(db_host);
            cfg.port = 0;
            cfg.socket.clear();
            return;
        }
        h = host.substr(start, p - start);
        if (p + 1 < host.size() && host[p] == ']' && host[p + 1] == ':') {
            size_t n = digit_run(host, p + 2);
            if (n > 0) port = host.substr(p + 2, n);
        }
    } else {
        size_t p = 0;
        while (p < host.size() && host[p] != ':' && host[p] != '/') ++p;
        h = host.substr(0, p);
        if (p < host.size() && host[p] == ':') {
            size_t n = digit_run(host, p + 1);
            if (n > 0) port = host.substr(p + 1, n);
        }
    }
    cfg.host = std::string(h);
    // PHP's empty("0") is true, so a port of "0" means "no port" too.
    cfg.port = (port.empty() || port == "0") ? 0 : parse_port_digits(port);
    cfg.socket = socket;
}

Connection::Connection(const DbConfig& cfg) : mysql_(nullptr), database_(cfg.database) {
    ensure_library();
    mysql_ = mysql_init(nullptr);
    if (!mysql_) throw Error(ErrorKind::database, "MariaDB client: out of memory creating a connection handle");

    unsigned int timeout = 10;
    unsigned int local_infile = 0;
    mysql_options(mysql_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(mysql_, MYSQL_OPT_LOCAL_INFILE, &local_infile);
    mysql_options(mysql_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);

    const char* host;
    const char* socket = nullptr;
    if (is_localhost(cfg.host)) {
        // "localhost" means the unix socket to Connector/C (the given one, or the compiled-in default).
        host = "localhost";
        if (!cfg.socket.empty()) socket = cfg.socket.c_str();
    } else {
        host = cfg.host.c_str();
        unsigned int protocol = MYSQL_PROTOCOL_TCP;
        mysql_options(mysql_, MYSQL_OPT_PROTOCOL, &protocol);
    }
    const char* db = cfg.database.empty() ? nullptr : cfg.database.c_str();
    if (!mysql_real_connect(mysql_, host, cfg.user.c_str(), cfg.password.c_str(), db, cfg.port, socket, 0)) {
        std::string where = socket ? std::string("localhost via socket ") + socket
                                   : std::string(host) + (cfg.port ? ":" + std::to_string(cfg.port) : "");
        std::string msg = "connecting to MariaDB at " + where + " as '" + cfg.user + "' failed: " +
                          mysql_error(mysql_) + " (error " + std::to_string(mysql_errno(mysql_)) + ")";
        mysql_close(mysql_);
        mysql_ = nullptr;
        throw Error(ErrorKind::database, msg);
    }
}

Connection::~Connection() {
    if (mysql_) mysql_close(mysql_);
}

void Connection::execute(std::string_view sql) {
    if (mysql_real_query(mysql_, sql.data(), static_cast<unsigned long>(sql.size())) != 0)
        throw_db(mysql_, "query `" + describe_statement(sql) + "`");
    drain_results(mysql_, sql);
}

std::vector<Row> Connection::query(std::string_view sql) {
    if (mysql_real_query(mysql_, sql.data(), static_cast<unsigned long>(sql.size())) != 0)
        throw_db(mysql_, "query `" + describe_statement(sql) + "`");
    std::vector<Row> rows;
    MYSQL_RES* res = mysql_store_result(mysql_);
    if (!res) {
        if (mysql_field_count(mysql_) != 0) throw_db(mysql_, "reading result of `" + describe_statement(sql) + "`");
        drain_results(mysql_, sql);
        return rows;
    }
    unsigned int ncols = mysql_num_fields(res);
    rows.reserve(static_cast<size_t>(mysql_num_rows(res)));
    while (MYSQL_ROW r = mysql_fetch_row(res)) {
        unsigned long* lengths = mysql_fetch_lengths(res);
        Row row;
        row.reserve(ncols);
        for (unsigned int i = 0; i < ncols; ++i) {
            if (r[i])
                row.emplace_back(std::string(r[i], lengths[i]));
            else
                row.emplace_back(std::nullopt);
        }
        rows.push_back(std::move(row));
    }
    mysql_free_result(res);
    // Any further result sets (multi-result procedures) are discarded.
    int next;
    while ((next = mysql_next_result(mysql_)) == 0) {
        if (MYSQL_RES* more = mysql_store_result(mysql_)) mysql_free_result(more);
    }
    if (next > 0) throw_db(mysql_, "query `" + describe_statement(sql) + "`");
    return rows;
}

std::optional<std::string> Connection::scalar(std::string_view sql) {
    std::vector<Row> rows = query(sql);
    if (rows.empty() || rows[0].empty()) return std::nullopt;
    return std::move(rows[0][0]);
}

uint64_t Connection::affected_rows() { return static_cast<uint64_t>(mysql_affected_rows(mysql_)); }

std::string Connection::server_version() {
    const char* v = mysql_get_server_info(mysql_);
    return v ? v : "";
}

std::string Connection::quote(std::string_view value) {
    std::string out(value.size() * 2 + 3, '\0');
    out[0] = '\'';
    unsigned long n = mysql_real_escape_string(mysql_, &out[1], value.data(), static_cast<unsigned long>(value.size()));
    if (n == static_cast<unsigned long>(-1)) throw Error(ErrorKind::database, "escaping a string failed");
    out[n + 1] = '\'';
    out.resize(n + 2);
    return out;
}

std::string quote_identifier(std::string_view name) {
    std::string out;
    out.reserve(name.size() + 2);
    out += '`';
    for (char c : name) {
        if (c == '`') out += '`';
        out += c;
    }
    out += '`';
    return out;
}

}  // namespace sitelift
