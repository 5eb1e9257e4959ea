// Connection, DB_HOST parsing, and table files against a real MariaDB/MySQL server.
//
// The server comes from SITELIFT_TEST_DB_HOST (a WordPress DB_HOST: host, host:port, localhost:/socket...),
// SITELIFT_TEST_DB_PORT (optional), SITELIFT_TEST_DB_USER, SITELIFT_TEST_DB_PASSWORD (optional) and
// SITELIFT_TEST_DB_NAME: a scratch database these tests create and drop tables in; they also create and drop
// databases named SITELIFT_TEST_DB_NAME + "_...". Without them every database test fails (it never passes
// silently). Some tests also run the stock `mariadb` (or `mysql`) client.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "db.hpp"
#include "error.hpp"
#include "sql.hpp"
#include "test_support.hpp"

using namespace sitelift;

// ---- DB_HOST parsing (no server needed) -------------------------------------------------------------------

TEST(WpDbHost, FollowsWordPressParseDbHost) {
    struct Case {
        const char* db_host;
        const char* host;
        unsigned port;
        const char* socket;
    };
    const Case cases[] = {
        {"localhost", "localhost", 0, ""},
        {"localhost:3307", "localhost", 3307, ""},
        {"127.0.0.1", "127.0.0.1", 0, ""},
        {"127.0.0.1:3306", "127.0.0.1", 3306, ""},
        {"db.example.com:33060", "db.example.com", 33060, ""},
        {"localhost:/var/run/mysqld/mysqld.sock", "localhost", 0, "/var/run/mysqld/mysqld.sock"},
        {"localhost:3307:/tmp/my.sock", "localhost", 3307, "/tmp/my.sock"},
        {":/tmp/my.sock", "", 0, "/tmp/my.sock"},
        {"[::1]", "::1", 0, ""},
        {"[::1]:3307", "::1", 3307, ""},
        {"::1", "::1", 0, ""},
        {"[2001:db8::1]:3306", "2001:db8::1", 3306, ""},
        {"2001:db8::1", "2001:db8::1", 0, ""},
        {"[::1]:/tmp/s.sock", "::1", 0, "/tmp/s.sock"},
        {"host:", "host", 0, ""},
        {"host:abc", "host", 0, ""},
        {"host:0", "host", 0, ""},
        {"host:3306abc", "host", 3306, ""},
        {"", "", 0, ""},
        {"p:localhost", "p", 0, ""},          // mysqli's persistent prefix is not understood by WordPress either
        {"zz::1", "zz::1", 0, ""},            // IPv6 pattern fails: WordPress keeps DB_HOST as is
    };
    for (const Case& c : cases) {
        DbConfig cfg;
        cfg.port = 9999;
        cfg.socket = "/old";
        apply_wp_db_host(cfg, c.db_host);
        EXPECT_EQ(cfg.host, c.host) << c.db_host;
        EXPECT_EQ(cfg.port, c.port) << c.db_host;
        EXPECT_EQ(cfg.socket, c.socket) << c.db_host;
    }
}

TEST(Db, QuoteIdentifier) {
    EXPECT_EQ(quote_identifier("wp_posts"), "`wp_posts`");
    EXPECT_EQ(quote_identifier("a`b``c"), "`a``b````c`");
    EXPECT_EQ(quote_identifier(""), "``");
}

// ---- helpers ----------------------------------------------------------------------------------------------

namespace {

using test_support::env_config;

#define REQUIRE_DB(cfg)                        \
    DbConfig cfg;                              \
    do {                                       \
        std::string why_;                      \
        if (!env_config(cfg, why_)) FAIL() << why_; \
    } while (0)

// A private temporary directory, removed with its files.
struct TempDir {
    std::string path;
    std::vector<std::string> files;
    TempDir() {
        const char* t = std::getenv("TMPDIR");
        std::string tmpl = std::string(t && *t ? t : "/tmp") + "/sitelift-dbtest-XXXXXX";
        std::vector<char> buf(tmpl.begin(), tmpl.end());
        buf.push_back('\0');
        if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
        path = buf.data();
    }
    std::string file(const std::string& name, const std::string& content) {
        std::string p = path + "/" + name;
        std::ofstream(p, std::ios::binary) << content;
        chmod(p.c_str(), 0600);
        files.push_back(p);
        return p;
    }
    ~TempDir() {
        for (auto& f : files) unlink(f.c_str());
        rmdir(path.c_str());
    }
};

std::string sh_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

std::string option_value(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string client_binary() {
    for (const char* b : {"mariadb", "mysql"})
        if (std::system(("command -v " + std::string(b) + " >/dev/null 2>&1").c_str()) == 0) return b;
    return "";
}

// Loads `sql` into database `db` with the stock command-line client. Returns "" or the client's output.
std::string run_client(const DbConfig& cfg, const std::string& db, const std::string& sql) {
    std::string client = client_binary();
    if (client.empty()) return "no mariadb or mysql client in PATH";
    TempDir dir;
    std::string cnf = "[client]\nuser=" + option_value(cfg.user) + "\npassword=" + option_value(cfg.password) + "\n";
    if (cfg.host.empty() || cfg.host == "localhost") {
        cnf += "host=localhost\n";
        if (!cfg.socket.empty()) cnf += "socket=" + option_value(cfg.socket) + "\n";
    } else {
        cnf += "host=" + option_value(cfg.host) + "\nprotocol=TCP\n";
    }
    if (cfg.port) cnf += "port=" + std::to_string(cfg.port) + "\n";
    std::string cnf_path = dir.file("client.cnf", cnf);
    std::string sql_path = dir.file("load.sql", sql);
    std::string out_path = dir.file("out.txt", "");
    std::string cmd = client + " --defaults-file=" + sh_quote(cnf_path) + " --default-character-set=utf8mb4 " +
                      sh_quote(db) + " < " + sh_quote(sql_path) + " > " + sh_quote(out_path) + " 2>&1";
    int rc = std::system(cmd.c_str());
    std::ifstream in(out_path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (rc != 0) return "client exited with " + std::to_string(rc) + ": " + ss.str();
    return "";
}

std::string q(const std::string& name) { return quote_identifier(name); }

struct Dump {
    std::string file;
    TableDumpResult result;
};

Dump dump(Connection& conn, const std::string& table, size_t max_statement = 1 << 20, bool strip_fk = false) {
    Dump d;
    DumpOptions o;
    o.max_statement_bytes = max_statement;
    o.strip_foreign_keys = strip_fk;
    size_t pieces = 0;
    d.result = dump_table(conn, table, [&](std::string_view s) { d.file.append(s); ++pieces; }, o);
    EXPECT_EQ(d.result.bytes, d.file.size());
    return d;
}

// A dump of one table in a snapshot of its own, on a connection of its own.
Dump dump_snapshot(const DbConfig& cfg, const std::string& table, size_t max_statement = 1 << 20) {
    Connection dc(cfg);
    begin_consistent_snapshot(dc);
    Dump d = dump(dc, table, max_statement);
    dc.execute("COMMIT");
    return d;
}

struct LoadResult {
    uint64_t rows = 0;
    std::string checksum;
    uint64_t changed = 0;
};

LoadResult load_with_parser(const DbConfig& cfg, const std::string& file, const std::string& source,
                            const std::string& target, unsigned threads, size_t chunk = 65536,
                            ValueTransform* transform = nullptr) {
    {
        Connection c(cfg);
        drop_table_if_exists(c, target);
    }
    ParallelLoader loader(cfg, threads);
    TableFileParser parser(source, target, [&](ParsedStatement&& st) { loader.submit(std::move(st)); }, transform);
    for (size_t pos = 0; pos < file.size(); pos += chunk) parser.feed(file.data() + pos, std::min(chunk, file.size() - pos));
    parser.finish();
    loader.wait();
    return {parser.rows(), parser.checksum(), parser.values_changed()};
}

// Sorted per-row fingerprints of `table` (any order-independent comparison works, tables may lack a key).
std::vector<std::string> row_hashes(Connection& conn, const std::string& qualified_table,
                                    const std::vector<std::string>& exprs) {
    std::string concat = "CONCAT_WS('|'";
    for (auto& e : exprs) concat += ", IFNULL(" + e + ", '~NULL~')";
    concat += ")";
    std::vector<std::string> out;
    for (auto& r : conn.query("SELECT MD5(" + concat + ") AS h FROM " + qualified_table + " ORDER BY h"))
        out.push_back(r[0].value_or("?"));
    return out;
}

std::string checksum_table(Connection& conn, const std::string& qualified_table) {
    auto rows = conn.query("CHECKSUM TABLE " + qualified_table);
    return rows.empty() || rows[0].size() < 2 ? "" : rows[0][1].value_or("NULL");
}

std::string show_create(Connection& conn, const std::string& qualified_table) {
    auto rows = conn.query("SHOW CREATE TABLE " + qualified_table);
    return rows.at(0).at(1).value_or("");
}

// SHOW CREATE TABLE text of `table` with its name replaced, for comparing copies.
std::string create_as(Connection& conn, const std::string& qualified_table, const std::string& table) {
    std::string s = show_create(conn, qualified_table);
    size_t paren = s.find(" (");
    return "CREATE TABLE " + q(table) + s.substr(paren);
}

uint64_t count_rows(Connection& conn, const std::string& qualified_table) {
    return std::stoull(conn.scalar("SELECT COUNT(*) FROM " + qualified_table).value_or("0"));
}

Connection& session(Connection& c) {
    c.execute("SET NAMES utf8mb4");
    c.execute("SET SESSION time_zone='+00:00'");
    c.execute("SET SESSION sql_mode='NO_ENGINE_SUBSTITUTION'");
    return c;
}

std::string hex_of(std::string_view s) {
    std::string out;
    static const char d[] = "0123456789ABCDEF";
    for (unsigned char c : s) {
        out += d[c >> 4];
        out += d[c & 15];
    }
    return out;
}

}  // namespace

// ---- connection -------------------------------------------------------------------------------------------

TEST(Db, ConnectQueryAndErrors) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    EXPECT_EQ(c.database(), cfg.database);
    EXPECT_EQ(c.scalar("SELECT 1 + 1"), std::optional<std::string>("2"));
    EXPECT_EQ(c.scalar("SELECT NULL"), std::nullopt);
    EXPECT_EQ(c.scalar("SELECT @@character_set_client"), std::optional<std::string>("utf8mb4"));
    EXPECT_FALSE(c.server_version().empty());
    EXPECT_EQ(c.scalar("SELECT " + c.quote("it's \\ \"x\"\n\xf0\x9f\x98\x80")),
              std::optional<std::string>("it's \\ \"x\"\n\xf0\x9f\x98\x80"));
    c.execute("SELECT 1");  // a result nobody reads must not break the connection
    EXPECT_EQ(c.scalar("SELECT 3"), std::optional<std::string>("3"));
    auto rows = c.query("SELECT 1, NULL, 'x' UNION ALL SELECT 2, 'y', ''");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0][1], std::nullopt);
    EXPECT_EQ(rows[1][1], std::optional<std::string>("y"));
    EXPECT_EQ(rows[1][2], std::optional<std::string>(""));
    try {
        c.execute("SELEKT 'my secret literal' FROM nowhere");
        FAIL() << "no error";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_EQ(e.kind(), ErrorKind::database);
        EXPECT_NE(m.find("SELEKT"), std::string::npos) << m;
        EXPECT_NE(m.find("error 1064"), std::string::npos) << m;
        // Our description of the statement stops before its first literal (the server's own message may
        // still quote the SQL near the error).
        EXPECT_EQ(m.rfind("query `SELEKT ...` failed: ", 0), 0u) << m;
    }
    EXPECT_EQ(c.scalar("SELECT 4"), std::optional<std::string>("4"));
}

TEST(Db, BadPasswordIsReportedWithoutThePassword) {
    REQUIRE_DB(cfg);
    DbConfig bad = cfg;
    bad.password = "Wrong-S3cret-Passw0rd";
    try {
        Connection c(bad);
        FAIL() << "connected with a wrong password";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_EQ(e.kind(), ErrorKind::database);
        EXPECT_EQ(m.find("Wrong-S3cret-Passw0rd"), std::string::npos) << m;
        EXPECT_NE(m.find("connecting"), std::string::npos) << m;
        EXPECT_NE(m.find("Access denied"), std::string::npos) << m;
    }
}

// Our decoding of literals is what the server does with them.
TEST(Db, LiteralsMeanWhatTheServerSays) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    c.execute("SET SESSION sql_mode=''");
    const char* literals[] = {
        "''", "'it''s'", "'it\\'s'", "\"dq \"\"x\"\" 'y'\"", "'\\0\\'\\\"\\b\\n\\r\\t\\Z\\\\'",
        "'50\\% a\\_b'", "'\\q\\x\\y\\B\\N'", "'\\\\%'", "'tab\there'", "'a\"b'", "\"a''b\"",
    };
    std::string decoded;
    for (const char* lit : literals) {
        ASSERT_TRUE(decode_sql_string(lit, decoded)) << lit;
        EXPECT_EQ(c.scalar(std::string("SELECT HEX(_binary ") + lit + ")"), std::optional<std::string>(hex_of(decoded)))
            << lit;
    }
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    all += all;
    std::string lit;
    append_sql_string(lit, all);
    EXPECT_EQ(c.scalar("SELECT HEX(_binary " + lit + ")"), std::optional<std::string>(hex_of(all)));
    std::string hex;
    append_sql_hex(hex, all);
    EXPECT_EQ(c.scalar("SELECT HEX(" + hex + ")"), std::optional<std::string>(hex_of(all)));
}

// ---- listing ----------------------------------------------------------------------------------------------

TEST(Db, ListTablesMatchesPrefixLiterally) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    for (const char* t : {"slt_lt_a", "slt_lt_b", "slt_ltXc", "slt_lt%d"}) {
        drop_table_if_exists(c, t);
        c.execute("CREATE TABLE " + q(t) + " (a int)");
    }
    c.execute("CREATE OR REPLACE VIEW `slt_lt_v` AS SELECT a FROM `slt_lt_a`");
    EXPECT_EQ(list_tables(c, "slt_lt_", false), (std::vector<std::string>{"slt_lt_a", "slt_lt_b"}));
    EXPECT_EQ(list_tables(c, "slt_lt%", false), (std::vector<std::string>{"slt_lt%d"}));
    EXPECT_EQ(list_views(c, "slt_lt_", false), (std::vector<std::string>{"slt_lt_v"}));
    EXPECT_TRUE(list_views(c, "slt_ltX", false).empty());
    auto all = list_tables(c, "nothing_matches_", true);
    for (const char* t : {"slt_lt_a", "slt_lt_b", "slt_ltXc", "slt_lt%d"})
        EXPECT_NE(std::find(all.begin(), all.end(), t), all.end()) << t;
    EXPECT_EQ(std::find(all.begin(), all.end(), "slt_lt_v"), all.end());
    c.execute("DROP VIEW `slt_lt_v`");
    for (const char* t : {"slt_lt_a", "slt_lt_b", "slt_ltXc", "slt_lt%d"}) drop_table_if_exists(c, t);
}

// ---- the awkward table: dump, load back two ways, compare ---------------------------------------------------

namespace {

const char* const kAwkwardCreate =
    "CREATE TABLE `slt_awk` ("
    " `id` INT NOT NULL,"
    " `v_gen` BIGINT AS (`id` * 2) VIRTUAL,"
    " `s_gen` VARCHAR(64) AS (CONCAT('r', `id`)) STORED,"
    " `bl` LONGBLOB, `vb` VARBINARY(300), `bn` BINARY(4), `bt` BIT(17),"
    " `d` DATE, `dt` DATETIME, `dt6` DATETIME(6), `ts` TIMESTAMP NULL DEFAULT NULL, `tm` TIME(3), `yr` YEAR,"
    " `txt` TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci, `lat1` VARCHAR(50) CHARACTER SET latin1,"
    " `ch` CHAR(8), `dec` DECIMAL(30,10), `fl` FLOAT, `dbl` DOUBLE, `j` JSON,"
    " `en` ENUM('a','b','it''s'), `st` SET('x','y','z'), `ui` BIGINT UNSIGNED, `ti` TINYINT, `pt` POINT NULL,"
    " KEY (`id`)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

const char* const kAwkwardColumns[] = {"id", "bl", "vb", "bn", "bt", "d", "dt", "dt6", "ts", "tm", "yr", "txt",
                                       "lat1", "ch", "dec", "fl", "dbl", "j", "en", "st", "ui", "ti", "pt"};

std::vector<std::string> awkward_exprs() {
    return {"`id`", "`v_gen`", "`s_gen`", "HEX(`bl`)", "HEX(`vb`)", "HEX(`bn`)", "`bt`+0", "`d`", "`dt`",
            "`dt6`", "`ts`", "`tm`", "`yr`", "HEX(`txt`)", "HEX(`lat1`)", "HEX(`ch`)", "`dec`", "`fl`+0e0",
            "`dbl`", "HEX(`j`)", "HEX(`en`)", "HEX(`st`)", "`ui`", "`ti`", "HEX(`pt`)"};
}

std::string random_text(std::mt19937& rng, size_t max_len) {
    static const char* pieces[] = {"a", "Z", " ", "'", "\"", "\\", "\n", "\r", "\t", "%", "_", ";", "--", "/*",
                                   "\xf0\x9f\x98\x80", "\xc3\xa9", "\xe2\x82\xac", "https://old.example/", "\x1a",
                                   ""};
    std::string s;
    size_t n = rng() % (max_len + 1);
    while (s.size() < n) {
        unsigned k = rng() % 20;
        if (k == 19)
            s += '\0';
        else
            s += pieces[k];
    }
    return s;
}

std::string random_bytes(std::mt19937& rng, size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xff);
    return s;
}

void fill_awkward(Connection& c) {
    session(c).execute("SET SESSION sql_mode=''");
    drop_table_if_exists(c, "slt_awk");
    c.execute(kAwkwardCreate);
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    std::string sql = "INSERT INTO `slt_awk` (`id`,`bl`,`vb`,`bn`,`bt`,`d`,`dt`,`dt6`,`ts`,`tm`,`yr`,`txt`,`lat1`,"
                      "`ch`,`dec`,`fl`,`dbl`,`j`,`en`,`st`,`ui`,`ti`,`pt`) VALUES (1,";
    append_sql_string(sql, all);  // every byte, as a string literal into a blob
    sql += ",";
    append_sql_hex(sql, all);
    sql += ",0x00ff0a27,b'10101010101010101','0000-00-00','0000-00-00 00:00:00','2024-02-29 23:59:59.999999',"
           "'2038-01-19 03:14:07','-838:59:59.000',0,";
    append_sql_string(sql, "\xf0\x9f\x98\x80 it's \"q\" \\ back\\slash \n\r\t\x1a end \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9");
    sql += ",'caf\xc3\xa9 na\xc3\xafve','ab',-12345678901234567890.0123456789,3.14159274,1.7976931348623157e308,";
    append_sql_string(sql, "{\"a\":\"b\\\"c\",\"e\":\"\xf0\x9f\x98\x80\",\"n\":[1,2.5,null]}");
    sql += ",'it''s','x,z',18446744073709551615,-128,POINT(1.5,-2.25)),";
    sql += "(2,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,"
           "NULL,NULL),";
    sql += "(3,'','','',b'0','1000-01-01','1000-01-01 00:00:00','9999-12-31 23:59:59.999999','1970-01-01 00:00:01',"
           "'838:59:59',1901,'','','',0,-0.0,1e-300,'[]','','',0,127,POINT(0,0)),";
    sql += "(4,'NULL','null','\\0',b'11111111111111111','2024-01-01','2024-01-01 12:00:00',NULL,'2000-01-01 00:00:00',"
           "'00:00:00.001',2155,'NULL','\\\\','  x',0.0000000001,1.17549435e-38,-2.2250738585072014e-308,"
           "'\"\\\\u00e9\"','b','x,y,z',1,-1,NULL)";
    c.execute(sql);

    // A row far bigger than the statement budget used below.
    std::mt19937 rng(42);
    sql = "INSERT INTO `slt_awk` (`id`,`bl`,`txt`) VALUES (-1,";
    append_sql_hex(sql, random_bytes(rng, 300000));
    sql += ",";
    append_sql_string(sql, random_text(rng, 60000));  // TEXT holds 64 KB
    sql += ")";
    c.execute(sql);

    // Many ordinary rows, in one transaction (a commit per statement is slow on servers that fsync).
    c.execute("START TRANSACTION");
    const int kRows = 50000;
    sql.clear();
    for (int i = 0; i < kRows; ++i) {
        if (sql.empty()) sql = "INSERT INTO `slt_awk` (`id`,`bl`,`vb`,`bn`,`bt`,`d`,`dt`,`dt6`,`ts`,`tm`,`yr`,`txt`,"
                               "`lat1`,`ch`,`dec`,`fl`,`dbl`,`j`,`en`,`st`,`ui`,`ti`) VALUES ";
        else sql += ',';
        char buf[512];
        sql += "(" + std::to_string(1000 + i) + ",";
        if (rng() % 4) append_sql_hex(sql, random_bytes(rng, rng() % 30)); else sql += "NULL";
        sql += ",";
        append_sql_hex(sql, random_bytes(rng, rng() % 40));
        sql += ",";
        append_sql_hex(sql, random_bytes(rng, 4));
        snprintf(buf, sizeof buf,
                 ",%u,'%04u-%02u-%02u','%04u-%02u-%02u %02u:%02u:%02u','2001-02-03 04:05:06.%06u',"
                 "FROM_UNIXTIME(%u),'%d:%02u:%02u.%03u',%u,",
                 static_cast<unsigned>(rng() % 131072), 1000 + static_cast<unsigned>(rng() % 9000),
                 1 + static_cast<unsigned>(rng() % 12), 1 + static_cast<unsigned>(rng() % 28),
                 1000 + static_cast<unsigned>(rng() % 9000), 1 + static_cast<unsigned>(rng() % 12),
                 1 + static_cast<unsigned>(rng() % 28), static_cast<unsigned>(rng() % 24),
                 static_cast<unsigned>(rng() % 60), static_cast<unsigned>(rng() % 60),
                 static_cast<unsigned>(rng() % 1000000), 1 + static_cast<unsigned>(rng() % 2100000000u),
                 static_cast<int>(rng() % 1600) - 800, static_cast<unsigned>(rng() % 60),
                 static_cast<unsigned>(rng() % 60), static_cast<unsigned>(rng() % 1000),
                 1901 + static_cast<unsigned>(rng() % 255));
        sql += buf;
        append_sql_string(sql, random_text(rng, 60));
        sql += ",'caf\xc3\xa9',";
        append_sql_string(sql, std::to_string(rng() % 100000));
        std::uniform_real_distribution<double> real(-1e6, 1e6);
        snprintf(buf, sizeof buf, ",%lld.%010u,%.9g,%.17g,", static_cast<long long>(rng() % 2000000) - 1000000,
                 static_cast<unsigned>(rng() % 1000000000u), real(rng), real(rng) * 1e-3);
        sql += buf;
        std::string json = "{\"k\":" + std::to_string(i) + ",\"s\":\"" + std::to_string(rng()) + "\\\"\"}";
        append_sql_string(sql, json);
        snprintf(buf, sizeof buf, ",%u,%u,%llu,%d)", 1 + static_cast<unsigned>(rng() % 3),
                 static_cast<unsigned>(rng() % 8), static_cast<unsigned long long>(rng()) * 4294967296ull + rng(),
                 static_cast<int>(rng() % 256) - 128);
        sql += buf;
        if (sql.size() > (512u << 10) || i + 1 == kRows) {
            c.execute(sql);
            sql.clear();
        }
    }
    c.execute("COMMIT");
}

}  // namespace

TEST(Db, AwkwardTableSurvivesDumpAndBothLoaders) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    fill_awkward(c);
    const uint64_t total = count_rows(c, "`slt_awk`");
    ASSERT_EQ(total, 50005u);

    Dump d = dump_snapshot(cfg, "slt_awk", 256 << 10);
    EXPECT_EQ(d.result.rows, total);
    ASSERT_EQ(d.result.checksum.size(), 64u);

    // The file: the exact header, explicit column lists without generated columns, statements in budget.
    const std::string header_tail =
        "SET NAMES utf8mb4;\nSET sql_mode='NO_AUTO_VALUE_ON_ZERO';\nSET foreign_key_checks=0;\n"
        "SET unique_checks=0;\nSET time_zone='+00:00';\nDROP TABLE IF EXISTS `slt_awk`;\nCREATE TABLE `slt_awk` (";
    EXPECT_EQ(d.file.rfind("-- ", 0), 0u);
    EXPECT_NE(d.file.find(header_tail), std::string::npos);
    std::string cols = "INSERT INTO `slt_awk` (";
    for (size_t i = 0; i < sizeof kAwkwardColumns / sizeof *kAwkwardColumns; ++i)
        cols += std::string(i ? "," : "") + "`" + kAwkwardColumns[i] + "`";
    cols += ") VALUES (";
    size_t statements = 0, oversized = 0, pos = 0;
    while ((pos = d.file.find("\nINSERT INTO", pos)) != std::string::npos) {
        ++pos;
        EXPECT_EQ(d.file.compare(pos, cols.size(), cols), 0);
        size_t end = d.file.find(";\nINSERT INTO", pos);
        size_t len = (end == std::string::npos ? d.file.size() : end + 2) - pos;
        ++statements;
        if (len > (256u << 10)) ++oversized;
    }
    EXPECT_GT(statements, 30u);
    EXPECT_EQ(oversized, 1u);  // only the single 600 KB row
    EXPECT_EQ(d.file.find("v_gen`,"), std::string::npos);
    EXPECT_NE(d.file.find("'0000-00-00 00:00:00'"), std::string::npos);

    // Parsing the file back gives the dumper's checksum and row count, however it is chunked.
    for (size_t chunk : {size_t(1) << 20, size_t(4093)}) {
        TableFileParser p("slt_awk", "slt_awk_x", [](ParsedStatement&&) {});
        for (size_t i = 0; i < d.file.size(); i += chunk) p.feed(d.file.data() + i, std::min(chunk, d.file.size() - i));
        p.finish();
        EXPECT_EQ(p.rows(), total);
        EXPECT_EQ(p.checksum(), d.result.checksum);
    }

    const auto original = row_hashes(c, "`slt_awk`", awkward_exprs());
    const std::string original_sum = checksum_table(c, "`slt_awk`");
    ASSERT_EQ(original.size(), total);

    // (a) our parser and loader, two threads, into another table.
    LoadResult lr = load_with_parser(cfg, d.file, "slt_awk", "slt_awk_copy", 2, 100000);
    EXPECT_EQ(lr.rows, total);
    EXPECT_EQ(lr.checksum, d.result.checksum);
    EXPECT_EQ(count_rows(c, "`slt_awk_copy`"), total);
    EXPECT_TRUE(row_hashes(c, "`slt_awk_copy`", awkward_exprs()) == original);
    EXPECT_EQ(checksum_table(c, "`slt_awk_copy`"), original_sum);
    EXPECT_EQ(create_as(c, "`slt_awk_copy`", "slt_awk"), show_create(c, "`slt_awk`"));

    // (b) the stock client, into another database.
    const std::string other = cfg.database + "_cli";
    c.execute("DROP DATABASE IF EXISTS " + q(other));
    c.execute("CREATE DATABASE " + q(other) + " DEFAULT CHARACTER SET utf8mb4");
    std::string err = run_client(cfg, other, d.file);
    ASSERT_EQ(err, "");
    const std::string in_other = q(other) + ".`slt_awk`";
    EXPECT_EQ(count_rows(c, in_other), total);
    EXPECT_TRUE(row_hashes(c, in_other, awkward_exprs()) == original);
    EXPECT_EQ(checksum_table(c, in_other), original_sum);
    EXPECT_EQ(show_create(c, in_other), show_create(c, "`slt_awk`"));

    // Dumping the copy gives the same rows (no key here, so compare sorted tuples, not the checksum).
    c.execute("DROP DATABASE " + q(other));
    drop_table_if_exists(c, "slt_awk_copy");
    drop_table_if_exists(c, "slt_awk");
}

TEST(Db, PrimaryKeyOrderMakesTheChecksumStable) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    session(c);
    drop_table_if_exists(c, "slt_pk");
    c.execute("CREATE TABLE `slt_pk` (`a` INT NOT NULL, `b` VARCHAR(20) NOT NULL, `v` TEXT, PRIMARY KEY (`b`,`a`))"
              " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    std::mt19937 rng(3);
    std::string sql = "INSERT INTO `slt_pk` (`a`,`b`,`v`) VALUES ";
    for (int i = 0; i < 2000; ++i) {
        if (i) sql += ',';
        sql += "(" + std::to_string(rng() % 100000) + "," + std::to_string(i % 37) + ",";
        append_sql_string(sql, random_text(rng, 30));
        sql += ")";
    }
    c.execute("INSERT IGNORE" + sql.substr(6));
    Connection dc(cfg);
    begin_consistent_snapshot(dc);
    Dump d1 = dump(dc, "slt_pk", 4096);
    // Rows come in key order: b (as a string) then a.
    EXPECT_NE(d1.file.find("VALUES ("), std::string::npos);

    LoadResult lr = load_with_parser(cfg, d1.file, "slt_pk", "slt_pk_copy", 3, 777);
    EXPECT_EQ(lr.checksum, d1.result.checksum);
    dc.execute("COMMIT");
    begin_consistent_snapshot(dc);
    Dump d2 = dump(dc, "slt_pk_copy", 4096);
    dc.execute("COMMIT");
    EXPECT_EQ(d2.result.rows, d1.result.rows);
    EXPECT_EQ(d2.result.checksum, d1.result.checksum);

    std::vector<std::pair<std::string, long>> keys;
    for (auto& r : c.query("SELECT `b`, `a` FROM `slt_pk` ORDER BY `b`, `a`")) keys.emplace_back(*r[0], std::stol(*r[1]));
    std::string expected_start = "INSERT INTO `slt_pk` (`a`,`b`,`v`) VALUES (" + std::to_string(keys[0].second) + ",'" +
                                 keys[0].first + "',";
    EXPECT_NE(d1.file.find(expected_start), std::string::npos);
    drop_table_if_exists(c, "slt_pk");
    drop_table_if_exists(c, "slt_pk_copy");
}

TEST(Db, SnapshotIsConsistent) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    drop_table_if_exists(c, "slt_snap");
    c.execute("CREATE TABLE `slt_snap` (`a` INT PRIMARY KEY) ENGINE=InnoDB");
    c.execute("INSERT INTO `slt_snap` VALUES (1),(2)");
    Connection dc(cfg);
    begin_consistent_snapshot(dc);
    c.execute("INSERT INTO `slt_snap` VALUES (3)");
    c.execute("DELETE FROM `slt_snap` WHERE `a` = 1");
    Dump d = dump(dc, "slt_snap");
    EXPECT_EQ(d.result.rows, 2u);
    EXPECT_NE(d.file.find("VALUES (1),(2);\n"), std::string::npos) << d.file;
    dc.execute("COMMIT");
    drop_table_if_exists(c, "slt_snap");
}

namespace {
class UrlSwap : public ValueTransform {
public:
    std::string replacement;
    bool transform(std::string_view, std::string& value) override {
        bool changed = false;
        for (size_t pos; (pos = value.find("old.example")) != std::string::npos; changed = true)
            value.replace(pos, 11, replacement);
        return changed;
    }
};
}  // namespace

TEST(Db, TransformedValuesReachTheServerIntact) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    session(c);
    drop_table_if_exists(c, "slt_tr");
    c.execute("CREATE TABLE `slt_tr` (`id` INT PRIMARY KEY, `t` LONGTEXT, `b` BLOB) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    std::vector<std::string> values = {
        "https://old.example/wp-content/x.jpg",
        "a:1:{s:3:\"url\";s:19:\"http://old.example/\";}",
        "no match \xf0\x9f\x98\x80 'quoted' \\ back",
        std::string("nul\0old.example\nline", 21),
        "",
    };
    for (size_t i = 0; i < values.size(); ++i) {
        std::string sql = "INSERT INTO `slt_tr` VALUES (" + std::to_string(i) + ",";
        append_sql_string(sql, values[i]);
        sql += ",";
        append_sql_hex(sql, "old.example");  // binary: UrlSwap does not take binary values
        sql += ")";
        c.execute(sql);
    }
    Dump d = dump_snapshot(cfg, "slt_tr");

    UrlSwap swap;
    swap.replacement = std::string("new'\\\"ex\r\n\x1a", 11) + '\0' + "ample.com";
    LoadResult lr = load_with_parser(cfg, d.file, "slt_tr", "slt_tr_copy", 2, 7, &swap);
    EXPECT_EQ(lr.changed, 3u);
    EXPECT_EQ(lr.checksum, d.result.checksum);
    auto rows = c.query("SELECT `id`, `t`, `b` FROM `slt_tr_copy` ORDER BY `id`");
    ASSERT_EQ(rows.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        std::string want = values[i];
        swap.transform("t", want);
        EXPECT_EQ(rows[i][1], std::optional<std::string>(want)) << i;
        EXPECT_EQ(rows[i][2], std::optional<std::string>("old.example")) << i;
    }
    drop_table_if_exists(c, "slt_tr");
    drop_table_if_exists(c, "slt_tr_copy");
}

namespace {
class BinaryUrlSwap : public UrlSwap {
public:
    bool transform_binary(std::string_view column, std::string& value) override { return transform(column, value); }
};
}  // namespace

// Binary columns are dumped as hex; a transform that opts in gets their bytes, and what it returns reaches
// the server byte for byte (written back as hex).
TEST(Db, TransformedBinaryValuesReachTheServerIntact) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    session(c);
    drop_table_if_exists(c, "slt_trb");
    c.execute("CREATE TABLE `slt_trb` (`id` INT PRIMARY KEY, `b` LONGBLOB, `vb` VARBINARY(64)) ENGINE=InnoDB");
    const std::vector<std::string> values = {
        std::string("\x89PNG\r\n\x1a\n\0old.example\xff", 21),
        "a:1:{s:3:\"url\";s:19:\"http://old.example/\";}",
        "no match",
    };
    for (size_t i = 0; i < values.size(); ++i) {
        std::string sql = "INSERT INTO `slt_trb` VALUES (" + std::to_string(i) + ",";
        append_sql_hex(sql, values[i]);
        sql += ",";
        append_sql_hex(sql, values[i].substr(0, 40));
        sql += ")";
        c.execute(sql);
    }
    Dump d = dump_snapshot(cfg, "slt_trb");
    ASSERT_NE(d.file.find(",0x"), std::string::npos) << d.file;

    BinaryUrlSwap swap;
    swap.replacement = std::string("n\0'\\x", 5);
    LoadResult lr = load_with_parser(cfg, d.file, "slt_trb", "slt_trb_copy", 2, 5, &swap);
    EXPECT_EQ(lr.changed, 4u);
    auto rows = c.query("SELECT `id`, `b`, `vb` FROM `slt_trb_copy` ORDER BY `id`");
    ASSERT_EQ(rows.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        std::string want = values[i], want_vb = values[i].substr(0, 40);
        swap.transform("b", want);
        swap.transform("vb", want_vb);
        EXPECT_EQ(rows[i][1], std::optional<std::string>(want)) << i;
        EXPECT_EQ(rows[i][2], std::optional<std::string>(want_vb)) << i;
    }
    drop_table_if_exists(c, "slt_trb");
    drop_table_if_exists(c, "slt_trb_copy");
}

TEST(Db, EmptyTableRoundTrips) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    drop_table_if_exists(c, "slt_empty");
    c.execute("CREATE TABLE `slt_empty` (`a` INT PRIMARY KEY, `b` TEXT) ENGINE=InnoDB");
    Dump d = dump_snapshot(cfg, "slt_empty");
    EXPECT_EQ(d.result.rows, 0u);
    EXPECT_EQ(d.file.find("INSERT"), std::string::npos);
    LoadResult lr = load_with_parser(cfg, d.file, "slt_empty", "slt_empty_copy", 2);
    EXPECT_EQ(lr.rows, 0u);
    EXPECT_EQ(lr.checksum, d.result.checksum);
    EXPECT_EQ(create_as(c, "`slt_empty_copy`", "slt_empty"), show_create(c, "`slt_empty`"));
    drop_table_if_exists(c, "slt_empty");
    drop_table_if_exists(c, "slt_empty_copy");
}

TEST(Db, RealCreateTablesAreAccepted) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    session(c);
    const std::vector<std::pair<std::string, std::string>> tables = {
        {"slt_ct_innodb",
         "CREATE TABLE `slt_ct_innodb` (`id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,"
         " `t` VARCHAR(100) NOT NULL DEFAULT 'it''s; -- \"x\" /* y */' COMMENT 'col''s comment',"
         " `body` LONGTEXT, `p` POINT NOT NULL, `c` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,"
         " `u` DECIMAL(10,2) DEFAULT (1 + 1), `h` INT INVISIBLE DEFAULT 5, `g` VARCHAR(10) AS (LEFT(`t`, 3)) PERSISTENT,"
         " PRIMARY KEY (`id`), UNIQUE KEY `t_u` (`t`), KEY `g` (`g`), FULLTEXT KEY `ft` (`body`), SPATIAL KEY `sp` (`p`),"
         " CONSTRAINT `chk` CHECK (`u` >= 0 AND `t` <> 'x'))"
         " ENGINE=InnoDB AUTO_INCREMENT=1000 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci"
         " ROW_FORMAT=DYNAMIC STATS_PERSISTENT=1 STATS_AUTO_RECALC=0 STATS_SAMPLE_PAGES=20"
         " COMMENT='table''s comment; (x)'"},
        {"slt_ct_compressed",
         "CREATE TABLE `slt_ct_compressed` (`a` INT) ENGINE=InnoDB ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8"},
        {"slt_ct_myisam",
         "CREATE TABLE `slt_ct_myisam` (`a` INT, `b` CHAR(3), KEY (`b`)) ENGINE=MyISAM PACK_KEYS=1 CHECKSUM=1"
         " DELAY_KEY_WRITE=1 DEFAULT CHARSET=latin1 COLLATE=latin1_german1_ci"},
        {"slt_ct_aria", "CREATE TABLE `slt_ct_aria` (`a` INT) ENGINE=Aria TRANSACTIONAL=1 PAGE_CHECKSUM=1 ROW_FORMAT=PAGE"},
        {"slt_ct_memory", "CREATE TABLE `slt_ct_memory` (`a` INT, `b` VARCHAR(10)) ENGINE=MEMORY"},
        {"slt ct `odd` name", "CREATE TABLE `slt ct ``odd`` name` (`we``ird` INT, `sp ace` TEXT) ENGINE=InnoDB"},
    };
    for (auto& [name, create] : tables) {
        SCOPED_TRACE(name);
        drop_table_if_exists(c, name);
        try {
            c.execute(create);
        } catch (const Error& e) {
            ADD_FAILURE() << "server refused the test table: " << e.what();
            continue;
        }
        std::string cols = name == "slt ct `odd` name" ? "(`we``ird`,`sp ace`) VALUES (1,'x')" : "";
        if (!cols.empty()) c.execute("INSERT INTO " + q(name) + " " + cols);
        else if (name == "slt_ct_innodb")
            c.execute("INSERT INTO `slt_ct_innodb` (`t`,`body`,`p`,`u`) VALUES ('abc','text',POINT(1,2),5)");
        else if (name == "slt_ct_myisam") c.execute("INSERT INTO `slt_ct_myisam` VALUES (1,'\xc3\xa4')");
        else if (name == "slt_ct_memory") c.execute("INSERT INTO `slt_ct_memory` VALUES (1,'m')");
        else c.execute("INSERT INTO " + q(name) + " VALUES (7)");

        Dump d = dump_snapshot(cfg, name);
        std::string target = name + "_copy";
        LoadResult lr;
        try {
            lr = load_with_parser(cfg, d.file, name, target, 1, 13);
        } catch (const Error& e) {
            ADD_FAILURE() << e.what() << "\n" << d.file;
            continue;
        }
        EXPECT_EQ(lr.rows, d.result.rows);
        EXPECT_EQ(lr.checksum, d.result.checksum);
        EXPECT_EQ(create_as(c, q(target), name), show_create(c, q(name)));
        EXPECT_EQ(checksum_table(c, q(target)), checksum_table(c, q(name)));
        drop_table_if_exists(c, name);
        drop_table_if_exists(c, target);
    }
}

TEST(Db, ForeignKeysAreStrippedOnRequest) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    drop_table_if_exists(c, "slt_fk_child");
    drop_table_if_exists(c, "slt_fk_parent");
    c.execute("CREATE TABLE `slt_fk_parent` (`id` INT PRIMARY KEY) ENGINE=InnoDB");
    c.execute("CREATE TABLE `slt_fk_child` (`id` INT PRIMARY KEY, `pid` INT, KEY (`pid`),"
              " CONSTRAINT `fk_p` FOREIGN KEY (`pid`) REFERENCES `slt_fk_parent` (`id`) ON DELETE CASCADE) ENGINE=InnoDB");
    c.execute("INSERT INTO `slt_fk_parent` VALUES (1)");
    c.execute("INSERT INTO `slt_fk_child` VALUES (10, 1)");
    Connection dc(cfg);
    begin_consistent_snapshot(dc);
    Dump kept = dump(dc, "slt_fk_child");
    Dump stripped = dump(dc, "slt_fk_child", 1 << 20, true);
    dc.execute("COMMIT");
    EXPECT_TRUE(kept.result.foreign_keys.empty());
    EXPECT_NE(kept.file.find("FOREIGN KEY"), std::string::npos);
    ASSERT_EQ(stripped.result.foreign_keys.size(), 1u);
    EXPECT_EQ(stripped.result.foreign_keys[0].rfind("CONSTRAINT `fk_p` FOREIGN KEY (`pid`) REFERENCES `slt_fk_parent`", 0), 0u)
        << stripped.result.foreign_keys[0];
    EXPECT_EQ(stripped.file.find("FOREIGN KEY"), std::string::npos);
    EXPECT_THROW(load_with_parser(cfg, kept.file, "slt_fk_child", "slt_fk_copy", 1), Error);
    LoadResult lr = load_with_parser(cfg, stripped.file, "slt_fk_child", "slt_fk_copy", 1);
    EXPECT_EQ(lr.rows, 1u);
    EXPECT_EQ(count_rows(c, "`slt_fk_copy`"), 1u);
    for (const char* t : {"slt_fk_copy", "slt_fk_child", "slt_fk_parent"}) drop_table_if_exists(c, t);
}

TEST(Db, ViewsAndTriggersLoadIntoAnotherDatabase) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    session(c);
    const std::string db = cfg.database;
    const std::string qdb = q(db);
    c.execute("DROP VIEW IF EXISTS `slt_vt_view`");
    drop_table_if_exists(c, "slt_vt");
    drop_table_if_exists(c, "slt_vt_log");
    c.execute("CREATE TABLE `slt_vt` (`id` INT PRIMARY KEY AUTO_INCREMENT, `name` VARCHAR(50), `cnt` INT DEFAULT 0)");
    c.execute("CREATE TABLE `slt_vt_log` (`msg` VARCHAR(200))");
    c.execute("INSERT INTO `slt_vt` (`name`) VALUES ('one'), ('two')");
    c.execute("CREATE DEFINER=CURRENT_USER VIEW `slt_vt_view` AS SELECT " + qdb + ".`slt_vt`.`id`, `name` FROM " + qdb +
              ".`slt_vt` WHERE `name` <> '" + db + ".`slt_vt`'");
    c.execute("CREATE DEFINER=CURRENT_USER TRIGGER `slt_vt_ai` AFTER INSERT ON " + qdb +
              ".`slt_vt` FOR EACH ROW BEGIN\n"
              "  INSERT INTO " + qdb + ".`slt_vt_log` (`msg`) VALUES (CONCAT('added;;', NEW.`name`, ' to " + db + ".slt_vt'));\n"
              "  SET @slt_x = 1;\nEND");

    std::string view_sql = dump_view(c, "slt_vt_view");
    std::string trig_sql = dump_triggers(c, "slt_vt");
    EXPECT_EQ(dump_triggers(c, "slt_vt_log"), "");
    EXPECT_EQ(view_sql.find("DEFINER="), std::string::npos) << view_sql;
    EXPECT_EQ(trig_sql.find("DEFINER="), std::string::npos) << trig_sql;
    EXPECT_EQ(view_sql.find(qdb + "."), std::string::npos) << view_sql;
    EXPECT_EQ(trig_sql.find(qdb + "."), std::string::npos) << trig_sql;
    EXPECT_NE(view_sql.find("CREATE OR REPLACE"), std::string::npos) << view_sql;
    EXPECT_NE(trig_sql.find("DROP TRIGGER IF EXISTS `slt_vt_ai`;"), std::string::npos) << trig_sql;
    EXPECT_NE(trig_sql.find("' to " + db + ".slt_vt'"), std::string::npos) << trig_sql;  // literal untouched
    EXPECT_EQ(trig_sql.find("DELIMITER ;;"), std::string::npos) << "body holds ';;', another delimiter is needed";

    const std::string other = db + "_vt";
    c.execute("DROP DATABASE IF EXISTS " + q(other));
    c.execute("CREATE DATABASE " + q(other));
    Connection dc(cfg);
    begin_consistent_snapshot(dc);
    std::string files = dump(dc, "slt_vt").file + dump(dc, "slt_vt_log").file;
    dc.execute("COMMIT");
    ASSERT_EQ(run_client(cfg, other, files + view_sql + trig_sql), "");
    // Loading twice works too (DROP ... IF EXISTS, CREATE OR REPLACE).
    ASSERT_EQ(run_client(cfg, other, files + view_sql + trig_sql), "");

    const std::string qo = q(other);
    c.execute("INSERT INTO " + qo + ".`slt_vt` (`name`) VALUES ('three')");
    EXPECT_EQ(c.scalar("SELECT COUNT(*) FROM " + qo + ".`slt_vt_log`"), std::optional<std::string>("1"));
    EXPECT_EQ(c.scalar("SELECT `msg` FROM " + qo + ".`slt_vt_log`"),
              std::optional<std::string>("added;;three to " + db + ".slt_vt"));
    EXPECT_EQ(c.scalar("SELECT COUNT(*) FROM `slt_vt_log`"), std::optional<std::string>("0"));
    EXPECT_EQ(c.scalar("SELECT COUNT(*) FROM " + qo + ".`slt_vt_view`"), std::optional<std::string>("3"));
    EXPECT_EQ(c.scalar("SELECT COUNT(*) FROM `slt_vt_view`"), std::optional<std::string>("2"));

    c.execute("DROP DATABASE " + qo);
    c.execute("DROP VIEW `slt_vt_view`");
    drop_table_if_exists(c, "slt_vt");
    drop_table_if_exists(c, "slt_vt_log");
}

TEST(Db, LoaderStopsAtTheFirstErrorAndNamesTheTable) {
    REQUIRE_DB(cfg);
    const std::string file =
        "SET NAMES utf8mb4;\nDROP TABLE IF EXISTS `slt_err`;\n"
        "CREATE TABLE `slt_err` (`id` INT PRIMARY KEY) ENGINE=InnoDB;\n"
        "INSERT INTO `slt_err` (`id`) VALUES (1),(2);\n"
        "INSERT INTO `slt_err` (`id`) VALUES (3),(3);\n"
        "INSERT INTO `slt_err` (`id`) VALUES (4);\n";
    {
        Connection c(cfg);
        drop_table_if_exists(c, "slt_err_copy");
    }
    ParallelLoader loader(cfg, 2);
    TableFileParser parser("slt_err", "slt_err_copy", [&](ParsedStatement&& st) { loader.submit(std::move(st)); });
    try {
        parser.feed(file.data(), file.size());
        parser.finish();
        loader.wait();
        FAIL() << "duplicate key not reported";
    } catch (const Error& e) {
        std::string m = e.what();
        EXPECT_EQ(e.kind(), ErrorKind::database);
        EXPECT_NE(m.find("`slt_err_copy`"), std::string::npos) << m;
        // MariaDB 10.6+ bulk-loads an empty table inside a transaction when unique_checks=0 and then reports a
        // duplicate only as "Got error 1 ... during COMMIT" (1180); otherwise it is "Duplicate entry" (1062).
        EXPECT_TRUE(m.find("Duplicate entry") != std::string::npos || m.find("error 1180") != std::string::npos)
            << m;
    }
    EXPECT_THROW(loader.wait(), Error);
    ParsedStatement more;
    more.kind = StatementKind::insert;
    more.sql = "INSERT INTO `slt_err_copy` (`id`) VALUES (9)";
    EXPECT_THROW(loader.submit(std::move(more)), Error);
    Connection c(cfg);
    drop_table_if_exists(c, "slt_err_copy");
}

TEST(Db, LoaderCommitsEverythingBeforeWaitReturns) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    drop_table_if_exists(c, "slt_ld");
    {
        ParallelLoader loader(cfg, 3);
        ParsedStatement create;
        create.kind = StatementKind::create_table;
        create.table = "slt_ld";
        create.sql = "CREATE TABLE `slt_ld` (`id` INT PRIMARY KEY, `v` VARCHAR(20)) ENGINE=InnoDB";
        loader.submit(std::move(create));
        for (int s = 0; s < 300; ++s) {
            ParsedStatement st;
            st.kind = StatementKind::insert;
            st.table = "slt_ld";
            st.sql = "INSERT INTO `slt_ld` (`id`,`v`) VALUES ";
            for (int i = 0; i < 20; ++i) st.sql += (i ? ",(" : "(") + std::to_string(s * 20 + i) + ",'x')";
            loader.submit(std::move(st));
        }
        loader.wait();
        EXPECT_EQ(count_rows(c, "`slt_ld`"), 6000u);  // visible to another connection: committed
    }
    // Destroying a loader with queued work neither throws nor hangs.
    {
        ParallelLoader loader(cfg, 2);
        for (int s = 0; s < 50; ++s) {
            ParsedStatement st;
            st.kind = StatementKind::insert;
            st.table = "slt_ld";
            st.sql = "INSERT INTO `slt_ld` (`id`,`v`) VALUES (" + std::to_string(100000 + s) + ",'y')";
            loader.submit(std::move(st));
        }
    }
    drop_table_if_exists(c, "slt_ld");
}


namespace {
ParsedStatement create_of(const std::string& table) {
    ParsedStatement st;
    st.kind = StatementKind::create_table;
    st.table = table;
    st.sql = "CREATE TABLE " + q(table) + " (`id` INT PRIMARY KEY, `v` VARCHAR(20), KEY `v` (`v`)) ENGINE=InnoDB";
    return st;
}
ParsedStatement insert_of(const std::string& table, const std::string& values) {
    ParsedStatement st;
    st.kind = StatementKind::insert;
    st.table = table;
    st.sql = "INSERT INTO " + q(table) + " (`id`,`v`) VALUES " + values;
    return st;
}
// Rows from, from + 1, ... (count of them) as one INSERT.
ParsedStatement insert_rows(const std::string& table, int from, int count) {
    std::string values;
    for (int i = 0; i < count; ++i) values += (i ? ",(" : "(") + std::to_string(from + i) + ",'r" + std::to_string(from + i) + "')";
    return insert_of(table, values);
}
}  // namespace

// The next table is created and filled while a long statement of the previous one still runs: a CREATE
// TABLE waits only for its own table's work, not for everything queued before it.
TEST(Db, LoaderOpensTheNextTableWhileThePreviousOneLoads) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    drop_table_if_exists(c, "slt_lo_a");
    drop_table_if_exists(c, "slt_lo_b");
    {
        ParallelLoader loader(cfg, 2);
        loader.submit(create_of("slt_lo_a"));
        loader.submit(insert_rows("slt_lo_a", 1, 1));
        ParsedStatement slow;
        slow.kind = StatementKind::insert;
        slow.table = "slt_lo_a";
        slow.sql = "INSERT INTO `slt_lo_a` (`id`,`v`) VALUES (2, SLEEP(4))";
        loader.submit(std::move(slow));
        loader.submit(create_of("slt_lo_b"));
        loader.submit(insert_rows("slt_lo_b", 1, 3));
        // Wait (up to 30 s) until b's first rows are committed, then look at a: its slow row, in a transaction
        // still running, must not be there yet. With a barrier before CREATE TABLE, b would only be created
        // after a's work was committed.
        uint64_t b_rows = 0;
        for (int i = 0; i < 3000 && b_rows < 3; ++i) {
            try {
                b_rows = count_rows(c, "`slt_lo_b`");
            } catch (const Error&) {
            }
            if (b_rows < 3) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ASSERT_EQ(b_rows, 3u);
        EXPECT_EQ(count_rows(c, "`slt_lo_a`"), 1u) << "table b was opened only after table a's work was committed";
        loader.wait();
        EXPECT_EQ(count_rows(c, "`slt_lo_a`"), 2u);
    }
    drop_table_if_exists(c, "slt_lo_a");
    drop_table_if_exists(c, "slt_lo_b");
}

// Many tables through three connections, in the shapes a table file stream takes: tables with many INSERTs,
// one with a single INSERT, one with none (it stays empty), and one created before wait() and filled after it.
TEST(Db, LoaderLoadsManyTablesSideBySide) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    const std::vector<std::string> tables = {"slt_lm_0", "slt_lm_1", "slt_lm_2", "slt_lm_3", "slt_lm_4", "slt_lm_5"};
    for (const auto& t : tables) drop_table_if_exists(c, t);
    drop_table_if_exists(c, "slt_lm_empty");
    drop_table_if_exists(c, "slt_lm_late");
    {
        ParallelLoader loader(cfg, 3);
        for (size_t t = 0; t < tables.size(); ++t) {
            loader.submit(create_of(tables[t]));
            const int statements = t == 2 ? 1 : 40;
            for (int s = 0; s < statements; ++s) loader.submit(insert_rows(tables[t], s * 25, 25));
            if (t == 3) loader.submit(create_of("slt_lm_empty"));
        }
        loader.submit(create_of("slt_lm_late"));
        loader.wait();
        EXPECT_EQ(count_rows(c, "`slt_lm_late`"), 0u);
        for (int s = 0; s < 30; ++s) loader.submit(insert_rows("slt_lm_late", s * 10, 10));
        loader.wait();
    }
    for (size_t t = 0; t < tables.size(); ++t)
        EXPECT_EQ(count_rows(c, q(tables[t])), t == 2 ? 25u : 1000u) << tables[t];
    EXPECT_EQ(count_rows(c, "`slt_lm_empty`"), 0u);
    EXPECT_EQ(count_rows(c, "`slt_lm_late`"), 300u);
    for (const auto& t : tables) drop_table_if_exists(c, t);
    drop_table_if_exists(c, "slt_lm_empty");
    drop_table_if_exists(c, "slt_lm_late");
}

// ---- ChunkLoader -------------------------------------------------------------------------------------------

namespace {


std::string ledger_row(int chunk) { return "INSERT INTO `slt_cl_ledger` (`chunk`) VALUES (" + std::to_string(chunk) + ")"; }

void make_chunk_tables(Connection& c) {
    drop_table_if_exists(c, "slt_cl");
    drop_table_if_exists(c, "slt_cl_ledger");
    c.execute("CREATE TABLE `slt_cl` (`id` INT PRIMARY KEY, `v` VARCHAR(40)) ENGINE=InnoDB");
    c.execute("CREATE TABLE `slt_cl_ledger` (`chunk` INT PRIMARY KEY) ENGINE=InnoDB");
    c.execute("INSERT INTO `slt_cl_ledger` VALUES (-1)");  // never empty: see ChunkLoader in sql.hpp
}

}  // namespace

TEST(Db, ChunkLoaderCommitsEveryChunkWithItsLedgerRow) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    make_chunk_tables(c);
    c.execute("INSERT INTO `slt_cl` VALUES (-1, 'seed')");  // not empty: the chunks may go to both workers
    {
        // A queue limit below one statement's size: every submit waits for an empty queue, and still goes in.
        ChunkLoader loader(cfg, 2, 16);
        for (int k = 0; k < 40; ++k) {
            loader.begin_chunk("slt_cl");
            for (int s = 0; s < 5; ++s) {
                std::string values;
                for (int i = 0; i < 10; ++i)
                    values += (i ? ",(" : "(") + std::to_string(k * 50 + s * 10 + i) + ",'chunk " + std::to_string(k) + "')";
                loader.submit(insert_of("slt_cl", values));
            }
            loader.end_chunk(ledger_row(k));
        }
        loader.wait();
        // Visible to another connection: committed.
        EXPECT_EQ(count_rows(c, "`slt_cl`"), 2001u);
        EXPECT_EQ(count_rows(c, "`slt_cl_ledger`"), 41u);
        // Every chunk's rows are there whole, next to its ledger row.
        EXPECT_EQ(c.scalar("SELECT COUNT(*) FROM (SELECT v FROM `slt_cl` GROUP BY v HAVING COUNT(*) = 50) t").value_or(""),
                  "40");
    }
    drop_table_if_exists(c, "slt_cl");
    drop_table_if_exists(c, "slt_cl_ledger");
}

TEST(Db, ChunkLoaderFailureNamesTheTableAndKeepsNoHalfChunk) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    make_chunk_tables(c);
    c.execute("INSERT INTO `slt_cl` VALUES (1000, 'already there')");
    {
        ChunkLoader loader(cfg, 2);
        loader.begin_chunk("slt_cl");
        loader.submit(insert_of("slt_cl", "(1,'a'),(2,'a')"));
        loader.end_chunk(ledger_row(1));
        loader.wait();  // else the failure below may come first and drop this chunk too
        loader.begin_chunk("slt_cl");
        loader.submit(insert_of("slt_cl", "(3,'b')"));
        loader.submit(insert_of("slt_cl", "(1000,'b')"));  // the duplicate
        loader.end_chunk(ledger_row(2));
        try {
            loader.wait();
            ADD_FAILURE() << "duplicate key not reported";
        } catch (const Error& e) {
            std::string m = e.what();
            EXPECT_EQ(e.kind(), ErrorKind::database);
            EXPECT_NE(m.find("`slt_cl`"), std::string::npos) << m;
        }
        EXPECT_THROW(loader.wait(), Error);
        EXPECT_THROW(loader.begin_chunk("slt_cl"), Error);
    }
    // The good chunk committed, the failed one left nothing.
    EXPECT_EQ(count_rows(c, "`slt_cl`"), 3u);
    EXPECT_EQ(c.scalar("SELECT GROUP_CONCAT(chunk ORDER BY chunk) FROM `slt_cl_ledger`").value_or(""), "-1,1");
    EXPECT_EQ(c.scalar("SELECT COUNT(*) FROM `slt_cl` WHERE v = 'b'").value_or(""), "0");
    drop_table_if_exists(c, "slt_cl");
    drop_table_if_exists(c, "slt_cl_ledger");
}

TEST(Db, ChunkLoaderDestroyedWithoutWaitRollsBackTheOpenChunk) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    make_chunk_tables(c);
    {
        ChunkLoader loader(cfg, 2);
        loader.begin_chunk("slt_cl");
        for (int s = 0; s < 50; ++s) loader.submit(insert_of("slt_cl", "(" + std::to_string(s) + ",'open')"));
        // Never ended: a parse error in the middle of a chunk leaves it so.
    }
    EXPECT_EQ(count_rows(c, "`slt_cl`"), 0u);
    EXPECT_EQ(count_rows(c, "`slt_cl_ledger`"), 1u);
    ChunkLoader loader(cfg, 1);
    ParsedStatement create;
    create.kind = StatementKind::create_table;
    create.sql = "CREATE TABLE `slt_cl_other` (`id` INT)";
    loader.begin_chunk("slt_cl_other");
    EXPECT_THROW(loader.submit(std::move(create)), Error);  // the caller runs CREATE TABLE itself
    drop_table_if_exists(c, "slt_cl");
    drop_table_if_exists(c, "slt_cl_ledger");
}

// Chunks that start filling one empty table on two connections at the same moment deadlock in MariaDB 10.6+
// (see ChunkLoader in sql.hpp); tiny chunks make that moment likely, so many rounds find it without the rule.
// MariaDB locks a whole empty InnoDB table for the first transaction that inserts into it (with unique and
// foreign-key checks off, as the loaders run): two connections starting on a new table at once could deadlock.
TEST(Db, LoaderFillsNewTablesFromSeveralConnectionsWithoutDeadlock) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    ParallelLoader loader(cfg, 3);
    for (int round = 0; round < 60; ++round) {
        SCOPED_TRACE(round);
        drop_table_if_exists(c, "slt_ld_empty");
        ParsedStatement create;
        create.kind = StatementKind::create_table;
        create.table = "slt_ld_empty";
        create.sql = "CREATE TABLE `slt_ld_empty` (`id` INT PRIMARY KEY, `v` VARCHAR(20)) ENGINE=InnoDB";
        ASSERT_NO_THROW(loader.submit(std::move(create)));
        for (int s = 0; s < 6; ++s) {
            std::string values;
            for (int i = 0; i < 5; ++i) values += (i ? ",(" : "(") + std::to_string(s * 5 + i) + ",'x')";
            ASSERT_NO_THROW(loader.submit(insert_of("slt_ld_empty", values)));
        }
        ASSERT_NO_THROW(loader.wait());
        ASSERT_EQ(count_rows(c, "`slt_ld_empty`"), 30u);
    }
    drop_table_if_exists(c, "slt_ld_empty");
}

TEST(Db, ChunkLoaderFillsAnEmptyTableOnOneConnection) {
    REQUIRE_DB(cfg);
    Connection c(cfg);
    for (int round = 0; round < 200; ++round) {
        SCOPED_TRACE(round);
        make_chunk_tables(c);
        ChunkLoader loader(cfg, 2);
        for (int k = 0; k < 4; ++k) {
            loader.begin_chunk("slt_cl", k == 0);
            loader.submit(insert_of("slt_cl", "(" + std::to_string(k) + ",'x')"));
            loader.end_chunk(ledger_row(k));
        }
        ASSERT_NO_THROW(loader.wait());
        ASSERT_EQ(count_rows(c, "`slt_cl`"), 4u);
    }
    drop_table_if_exists(c, "slt_cl");
    drop_table_if_exists(c, "slt_cl_ledger");
}
