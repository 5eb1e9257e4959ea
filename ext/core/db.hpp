// A thin RAII wrapper around a MariaDB Connector/C connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct st_mysql;

namespace sitelift {

struct DbConfig {
    std::string host = "localhost";
    unsigned port = 0;        // 0: default
    std::string socket;       // unix socket path, used when host is "localhost" or empty
    std::string user;
    std::string password;     // never logged, never put in an exception message
    std::string database;
};

// Splits WordPress's DB_HOST into host, port and socket the way WordPress does: "host", "host:port",
// "localhost:/path/to.sock", "host:port:/sock", "[::1]", "[::1]:3307", bare "::1".
void apply_wp_db_host(DbConfig& cfg, std::string_view db_host);

using Row = std::vector<std::optional<std::string>>;

class Connection {
public:
    explicit Connection(const DbConfig& cfg);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    st_mysql* raw() { return mysql_; }

    void execute(std::string_view sql);                    // throws Error(database)
    std::vector<Row> query(std::string_view sql);          // whole (small) result in memory
    std::optional<std::string> scalar(std::string_view sql);  // first column of the first row
    uint64_t affected_rows();
    std::string server_version();                          // e.g. "10.11.6-MariaDB-0+deb12u1"
    std::string quote(std::string_view value);             // '...' escaped for this connection
    const std::string& database() const { return database_; }

private:
    st_mysql* mysql_;
    std::string database_;
};

// `name` with backquotes doubled, wrapped in backquotes.
std::string quote_identifier(std::string_view name);

}  // namespace sitelift
