// Push and receive (docs/push-design.md) against a real MariaDB/MySQL server: chunked table dumps, receiving
// segments into a scratch destination, and the signed request routes with their tokens.
//
// The server comes from the same variables as test_db.cpp: SITELIFT_TEST_DB_HOST (a WordPress DB_HOST),
// SITELIFT_TEST_DB_PORT (optional), SITELIFT_TEST_DB_USER, SITELIFT_TEST_DB_PASSWORD (optional) and
// SITELIFT_TEST_DB_NAME, a scratch database. These tests create and drop tables named slt_ck_*, slt_src_*,
// slt_rx_*, slt_rq_* there, and the importer's sl_stage_* / sl_bak_* work tables (dropped again through
// receive_forget / cleanup_site). Without the variables every database test fails (never passes silently).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "archive.hpp"
#include "crypto.hpp"
#include "db.hpp"
#include "error.hpp"
#include "import.hpp"
#include "manifest.hpp"
#include "receive.hpp"
#include "sha256.hpp"
#include "sql.hpp"
#include "test_support.hpp"

using namespace sitelift;
using nlohmann::json;
using sitelift::test_support::TempDir;
namespace fs = std::filesystem;

namespace {

// ---- database access ---------------------------------------------------------------------------------------

using test_support::env_config;

// ctest runs tests in parallel and these tests use fixed table names: each test gets a database of its own
// (the test user may create databases named after the scratch one), dropped again by drop_isolated().
void isolate(DbConfig& cfg) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "." + info->name();
    std::string db = cfg.database + "_" + Sha256::hex(name).substr(0, 12);
    Connection c(cfg);
    c.execute("DROP DATABASE IF EXISTS " + quote_identifier(db));
    c.execute("CREATE DATABASE " + quote_identifier(db) + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
    cfg.database = db;
}

void drop_isolated(const DbConfig& cfg) {
    try {
        Connection c(cfg);
        c.execute("DROP DATABASE IF EXISTS " + quote_identifier(cfg.database));
    } catch (...) {
    }
}

#define REQUIRE_DB(cfg)                             \
    DbConfig cfg;                                   \
    do {                                            \
        std::string why_;                           \
        if (!env_config(cfg, why_)) FAIL() << why_; \
    } while (0)

std::string q(const std::string& name) { return quote_identifier(name); }

// Order-independent digest of a table's rows (tables may lack a key): every row serialized without ambiguity,
// sorted, hashed. Duplicated rows change it.
std::string row_digest(Connection& conn, const std::string& table) {
    std::vector<std::string> rows;
    for (const Row& r : conn.query("SELECT * FROM " + q(table))) {
        std::string s;
        for (const auto& v : r) {
            if (!v) {
                s += "N;";
            } else {
                s += "V" + std::to_string(v->size()) + ":" + *v + ";";
            }
        }
        rows.push_back(std::move(s));
    }
    std::sort(rows.begin(), rows.end());
    Sha256 h;
    for (const auto& s : rows) {
        h.update(s);
        h.update("\n", 1);
    }
    return std::to_string(rows.size()) + "/" + h.hex_digest();
}

uint64_t count_rows(Connection& conn, const std::string& table) {
    return std::stoull(conn.scalar("SELECT COUNT(*) FROM " + q(table)).value_or("0"));
}

bool table_exists(Connection& conn, const std::string& table) {
    auto v = conn.scalar("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND "
                         "TABLE_NAME = " + conn.quote(table));
    return v && *v != "0";
}

// Tables of the current database whose name starts with prefix (compared as bytes, not as a LIKE pattern).
std::vector<std::string> tables_with_prefix(Connection& conn, const std::string& prefix) {
    std::vector<std::string> out;
    for (const Row& r : conn.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"))
        if (!r.empty() && r[0] && r[0]->compare(0, prefix.size(), prefix) == 0) out.push_back(*r[0]);
    std::sort(out.begin(), out.end());
    return out;
}

void drop_prefixed(Connection& conn, const std::string& prefix) {
    for (const auto& t : tables_with_prefix(conn, prefix)) conn.execute("DROP TABLE IF EXISTS " + q(t));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

bool exists_nofollow(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

// ---- chunked dumps -----------------------------------------------------------------------------------------

struct Chunk {
    std::string sql;
    TableDumpResult res;
};

// Dumps `table` the way the push does: chunk 0 in full form, then continuation chunks after the previous
// chunk's last key (or offset without a primary key), until a chunk holds fewer than max_rows rows.
// max_statement_bytes = 1 puts every row in an INSERT of its own, so the tuples can be listed line by line.
std::vector<Chunk> dump_in_chunks(const DbConfig& cfg, const std::string& table, uint64_t max_rows,
                                  size_t max_statement_bytes = 1) {
    Connection conn(cfg);
    begin_consistent_snapshot(conn);
    std::vector<Chunk> chunks;
    std::vector<std::string> key;
    uint64_t offset = 0;
    for (int guard = 0; guard < 100000; ++guard) {
        DumpOptions o;
        o.max_statement_bytes = max_statement_bytes;
        o.continuation = !chunks.empty();
        o.max_rows = max_rows;
        o.after_key = key;
        o.offset = offset;
        Chunk c;
        c.res = dump_table(conn, table, [&](std::string_view s) { c.sql.append(s); }, o);
        const uint64_t rows = c.res.rows;
        key = c.res.last_key;
        offset += rows;
        chunks.push_back(std::move(c));
        if (rows < max_rows) break;
    }
    conn.execute("COMMIT");
    return chunks;
}

std::string dump_whole(const DbConfig& cfg, const std::string& table, size_t max_statement_bytes = 1) {
    Connection conn(cfg);
    begin_consistent_snapshot(conn);
    DumpOptions o;
    o.max_statement_bytes = max_statement_bytes;
    std::string sql;
    dump_table(conn, table, [&](std::string_view s) { sql.append(s); }, o);
    conn.execute("COMMIT");
    return sql;
}

// The row tuples of a table file whose INSERTs hold one row each, in file order.
std::vector<std::string> tuples_of(const std::string& sql) {
    std::vector<std::string> out;
    std::istringstream in(sql);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("INSERT INTO ", 0) != 0) continue;
        size_t v = line.find(") VALUES (");
        if (v == std::string::npos || line.size() < 2 || line.back() != ';') {
            ADD_FAILURE() << "unexpected INSERT line: " << line.substr(0, 200);
            continue;
        }
        out.push_back(line.substr(v + 9, line.size() - (v + 9) - 1));
    }
    return out;
}

// Feeds a table file to a parser in small pieces; every statement runs on conn.
void load_file(Connection& conn, const std::string& sql, const std::string& source, const std::string& target,
               bool continuation, size_t piece = 97) {
    TableFileParser parser(source, target, [&](ParsedStatement&& st) { conn.execute(st.sql); });
    if (continuation) parser.set_continuation();
    for (size_t pos = 0; pos < sql.size(); pos += piece)
        parser.feed(sql.data() + pos, std::min(piece, sql.size() - pos));
    parser.finish();
}

std::optional<ErrorKind> parse_error_kind(const std::string& sql, const std::string& table, bool continuation) {
    try {
        TableFileParser parser(table, table + "_copy", [](ParsedStatement&&) {});
        if (continuation) parser.set_continuation();
        parser.feed(sql.data(), sql.size());
        parser.finish();
    } catch (const Error& e) {
        return e.kind();
    }
    return std::nullopt;
}

class ChunkedDump : public ::testing::Test {
protected:
    void SetUp() override {
        std::string why;
        if (!env_config(cfg_, why)) FAIL() << why;
        isolate(cfg_);
        Connection c(cfg_);
        drop_prefixed(c, "slt_ck_");
    }
    void TearDown() override {
        try {
            Connection c(cfg_);
            drop_prefixed(c, "slt_ck_");
        } catch (...) {
        }
        drop_isolated(cfg_);
    }

    // Dumps `table` in chunks of max_rows and checks: every row exactly once and in the whole dump's order,
    // continuation files without DROP/CREATE, and a copy loaded chunk by chunk identical to the table.
    void check_chunks(const std::string& table, uint64_t max_rows, bool expect_pk) {
        SCOPED_TRACE(table + " in chunks of " + std::to_string(max_rows));
        Connection c(cfg_);
        const uint64_t total = count_rows(c, table);
        const std::vector<std::string> whole = tuples_of(dump_whole(cfg_, table));
        ASSERT_EQ(whole.size(), total);
        std::vector<Chunk> chunks = dump_in_chunks(cfg_, table, max_rows);
        ASSERT_FALSE(chunks.empty());
        EXPECT_EQ(chunks.size(), total / max_rows + 1);  // the last one short (possibly empty)

        std::vector<std::string> all;
        uint64_t rows = 0;
        for (size_t i = 0; i < chunks.size(); ++i) {
            const Chunk& ch = chunks[i];
            SCOPED_TRACE("chunk " + std::to_string(i));
            EXPECT_EQ(ch.res.has_primary_key, expect_pk);
            EXPECT_EQ(ch.res.bytes, ch.sql.size());
            if (i + 1 < chunks.size()) {
                EXPECT_EQ(ch.res.rows, max_rows);
            }
            EXPECT_LE(ch.res.rows, max_rows);
            std::vector<std::string> t = tuples_of(ch.sql);
            EXPECT_EQ(t.size(), ch.res.rows);
            // The row checksum is the SHA-256 of the tuples as written.
            Sha256 h;
            for (const auto& s : t) {
                h.update(s);
                h.update("\n", 1);
            }
            EXPECT_EQ(ch.res.checksum, h.hex_digest());
            all.insert(all.end(), t.begin(), t.end());
            rows += ch.res.rows;
            const bool has_drop = ch.sql.find("DROP TABLE") != std::string::npos;
            const bool has_create = ch.sql.find("CREATE TABLE") != std::string::npos;
            if (i == 0) {
                EXPECT_TRUE(has_drop);
                EXPECT_TRUE(has_create);
            } else {
                EXPECT_FALSE(has_drop) << ch.sql.substr(0, 400);
                EXPECT_FALSE(has_create) << ch.sql.substr(0, 400);
                EXPECT_NE(ch.sql.find("SET NAMES utf8mb4;"), std::string::npos);
            }
            if (expect_pk && ch.res.rows > 0) {
                EXPECT_FALSE(ch.res.last_key.empty());
            }
            if (!expect_pk) {
                EXPECT_TRUE(ch.res.last_key.empty());
            }
        }
        EXPECT_EQ(rows, total);
        EXPECT_EQ(all, whole) << "the chunks do not hold every row exactly once in order";

        // Load chunk 0 normally and the others as continuations into a copy.
        const std::string copy = "slt_ck_copy";
        drop_table_if_exists(c, copy);
        Connection loader(cfg_);
        set_up_load_session(loader);
        for (size_t i = 0; i < chunks.size(); ++i) {
            SCOPED_TRACE("loading chunk " + std::to_string(i));
            ASSERT_NO_THROW(load_file(loader, chunks[i].sql, table, copy, i > 0));
        }
        EXPECT_EQ(row_digest(c, copy), row_digest(c, table));
        drop_table_if_exists(c, copy);
    }

    DbConfig cfg_;
};

TEST_F(ChunkedDump, IntegerPrimaryKey) {
    Connection c(cfg_);
    c.execute("CREATE TABLE slt_ck_int (id BIGINT NOT NULL PRIMARY KEY, title VARCHAR(100) NULL, body LONGTEXT, "
              "n DOUBLE NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    // Inserted out of key order; negative, zero and extreme keys; values with quotes, newlines and NULLs.
    std::string ins = "INSERT INTO slt_ck_int VALUES ";
    std::vector<long long> ids = {9223372036854775807LL, -9223372036854775807LL - 1, 0, -1, 1};
    for (int i = 0; i < 40; ++i) ids.push_back(1000 - i * 17);
    for (size_t i = 0; i < ids.size(); ++i) {
        if (i) ins += ",";
        ins += "(" + std::to_string(ids[i]) + ", " + (i % 5 == 0 ? std::string("NULL") : c.quote("t'" + std::to_string(i))) +
               ", " + c.quote("line\nnext \\ 'q' " + std::string(i * 3, 'x')) + ", " +
               (i % 3 ? std::to_string(i) + ".25" : "NULL") + ")";
    }
    c.execute(ins);
    const uint64_t n = ids.size();  // 45
    for (uint64_t m : {1ull, 7ull, 9ull /* 45 = 5 * 9: empty last chunk */, 44ull, 45ull, 1000ull})
        check_chunks("slt_ck_int", m, true);
    EXPECT_EQ(n, 45u);
}

TEST_F(ChunkedDump, CompositeStringIntPrimaryKey) {
    Connection c(cfg_);
    // The key's column order differs from the table's; the collation is case- and pad-insensitive, so 'a'/'A' and
    // 'b'/'b ' compare equal and only the int part tells those rows apart.
    c.execute("CREATE TABLE slt_ck_comp (n INT NOT NULL, name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE "
              "utf8mb4_unicode_ci NOT NULL, v TEXT, PRIMARY KEY (name, n)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    std::vector<std::pair<std::string, int>> keys = {
        {"a", 1}, {"A", 2}, {"a", 3}, {"b", 1}, {"b ", 2}, {"it's", 1}, {"back\\slash", 1}, {"Zürich", 5},
        {"zurich", 6}, {"", 0}, {"", -4}, {"日本", 1}, {"emoji 😀", 2}, {"a\nb", 1}, {"%_", 9}};
    for (int i = 0; i < 30; ++i) keys.push_back({"k" + std::to_string(i % 7), i});
    std::string ins = "INSERT INTO slt_ck_comp (n, name, v) VALUES ";
    for (size_t i = 0; i < keys.size(); ++i) {
        if (i) ins += ",";
        ins += "(" + std::to_string(keys[i].second) + ", " + c.quote(keys[i].first) + ", " +
               (i % 4 ? c.quote("value " + std::to_string(i)) : std::string("NULL")) + ")";
    }
    c.execute(ins);
    for (uint64_t m : {1ull, 2ull, 5ull, 15ull, 100ull}) check_chunks("slt_ck_comp", m, true);
}

TEST_F(ChunkedDump, NoPrimaryKeyByOffset) {
    Connection c(cfg_);
    c.execute("CREATE TABLE slt_ck_nopk (a INT NULL, b VARCHAR(50) NULL, KEY (a)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    std::string ins = "INSERT INTO slt_ck_nopk VALUES ";
    for (int i = 0; i < 33; ++i) {
        if (i) ins += ",";
        // Duplicated rows on purpose: "exactly once" must still hold for each copy.
        ins += "(" + std::to_string(i % 10) + ", " + (i % 6 == 0 ? std::string("NULL") : c.quote("dup " + std::to_string(i % 10))) + ")";
    }
    c.execute(ins);
    for (uint64_t m : {1ull, 4ull, 11ull /* 33 = 3 * 11 */, 32ull, 500ull}) check_chunks("slt_ck_nopk", m, false);
}

// The keyset condition compares the key with '>' while the order comes from ORDER BY. For an ENUM key the two
// would disagree (ORDER BY sorts by the member's index, '>' against a string literal compares the strings), so
// such keys are chunked by offset in key order instead: no resume key, every row exactly once.
TEST_F(ChunkedDump, EnumPrimaryKeyKeepsEveryRow) {
    Connection c(cfg_);
    c.execute("CREATE TABLE slt_ck_enum (e ENUM('zulu','alpha','mike') NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB");
    c.execute("INSERT INTO slt_ck_enum VALUES ('alpha', 1), ('zulu', 2), ('mike', 3)");
    check_chunks("slt_ck_enum", 1, false);
}

TEST_F(ChunkedDump, SetPrimaryKeyKeepsEveryRow) {
    Connection c(cfg_);
    c.execute("CREATE TABLE slt_ck_set (s SET('zulu','alpha') NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB");
    c.execute("INSERT INTO slt_ck_set VALUES ('alpha', 1), ('zulu', 2), ('zulu,alpha', 3)");
    check_chunks("slt_ck_set", 1, false);
}

// Keys of other types: each is read back and compared as the literal the dump wrote for it.
TEST_F(ChunkedDump, OtherPrimaryKeyTypes) {
    struct Case {
        const char* type;
        std::vector<std::string> values;  // SQL literals
    };
    const std::vector<Case> cases = {
        {"FLOAT", {"0.1", "0.2", "0.3", "1e-7", "-2.5", "3.4e38", "16777217", "0"}},
        {"DOUBLE", {"0.1", "0.30000000000000004", "-1e-300", "1.7976931348623157e308", "2"}},
        {"DECIMAL(20,6)", {"0.000001", "-12345.5", "99999999999999.999999", "0"}},
        {"DATETIME(6)", {"'2024-01-01 00:00:00.000001'", "'1999-12-31 23:59:59'", "'2024-01-01 00:00:00'"}},
        {"TIMESTAMP", {"'2024-03-31 01:30:00'", "'2001-01-01 00:00:01'", "'2038-01-19 03:14:07'"}},
        {"VARBINARY(20)", {"0x00", "0x0000", "0xff", "0x61", "0x41", "0x6120", "0x61"}},
        {"CHAR(5) CHARACTER SET latin1", {"'x'", "'X '", "'y'", "'\\\\'", "'é'"}},
        {"BIT(8)", {"b'0'", "b'1'", "b'11111111'", "b'1000'"}},
        {"YEAR", {"1999", "2024", "2000"}},
        {"TIME(3)", {"'-838:59:59'", "'00:00:00.5'", "'12:00:00'"}},
    };
    for (const Case& k : cases) {
        SCOPED_TRACE(k.type);
        Connection c(cfg_);
        drop_table_if_exists(c, "slt_ck_type");
        c.execute("SET SESSION time_zone = '+00:00'");
        c.execute(std::string("CREATE TABLE slt_ck_type (k ") + k.type + " NOT NULL PRIMARY KEY, v INT) ENGINE=InnoDB");
        int i = 0;
        for (const auto& v : k.values) c.execute("INSERT IGNORE INTO slt_ck_type VALUES (" + v + ", " + std::to_string(i++) + ")");
        ASSERT_GT(count_rows(c, "slt_ck_type"), 1u);
        // FLOAT is read as DOUBLE, so its literal is not the stored value: chunked by offset like ENUM.
        const bool keyset = std::string(k.type) != "FLOAT";
        for (uint64_t m : {1ull, 2ull}) check_chunks("slt_ck_type", m, keyset);
    }
}

TEST_F(ChunkedDump, ParserRefusesChunksOfTheWrongKind) {
    Connection c(cfg_);
    c.execute("CREATE TABLE slt_ck_kind (id INT NOT NULL PRIMARY KEY, s VARCHAR(10)) ENGINE=InnoDB");
    c.execute("INSERT INTO slt_ck_kind VALUES (1,'a'),(2,'b'),(3,'c'),(4,'d'),(5,'e')");
    std::vector<Chunk> chunks = dump_in_chunks(cfg_, "slt_ck_kind", 2, 1 << 20);
    ASSERT_EQ(chunks.size(), 3u);
    // Sanity: each file is accepted the right way.
    EXPECT_EQ(parse_error_kind(chunks[0].sql, "slt_ck_kind", false), std::nullopt);
    EXPECT_EQ(parse_error_kind(chunks[1].sql, "slt_ck_kind", true), std::nullopt);
    // A continuation file without set_continuation: INSERT before CREATE TABLE.
    EXPECT_EQ(parse_error_kind(chunks[1].sql, "slt_ck_kind", false), ErrorKind::security);
    // A first chunk declared a continuation: DROP/CREATE after "create".
    EXPECT_EQ(parse_error_kind(chunks[0].sql, "slt_ck_kind", true), ErrorKind::security);
    // Just the CREATE part of chunk 0 (no DROP) is refused as a continuation too.
    std::string no_drop = chunks[0].sql;
    size_t d = no_drop.find("DROP TABLE");
    ASSERT_NE(d, std::string::npos);
    no_drop.erase(d, no_drop.find('\n', d) - d + 1);
    EXPECT_EQ(parse_error_kind(no_drop, "slt_ck_kind", false), std::nullopt);
    EXPECT_EQ(parse_error_kind(no_drop, "slt_ck_kind", true), ErrorKind::security);
}

// ---- building a push stream in memory ------------------------------------------------------------------------

constexpr int64_t kMtime = 1700000000;

// Segments as ext/core/push.cpp builds them: each a complete tar (zstd), the manifest in the last one.
class SegmentBuilder {
public:
    explicit SegmentBuilder(SiteInfo site) : site_(std::move(site)) {}

    // Lets a test falsify what the manifest will say about an entry.
    std::function<void(EntryRecord&)> tamper;

    void begin() {
        cur_.clear();
        WriterOptions wo;
        wo.compression = Compression::zstd;
        wo.level = 1;
        wo.threads = 1;
        wo.background = false;
        w_ = std::make_unique<ArchiveWriter>([this](const void* d, size_t n) { cur_.append(static_cast<const char*>(d), n); }, wo);
    }
    void end() {
        w_->close();
        w_.reset();
        segments.push_back(cur_);
    }
    void site_json() { w_->add_file("site.json", site_to_json(site_).dump(2) + "\n", 0644, kMtime); }
    void table_chunk(const std::string& table, size_t n, const Chunk& c) {
        w_->add_file("database/" + table_chunk_name(table, n), c.sql, 0644, kMtime);
        record_chunk(table, n, c);
    }
    void file(const std::string& rel, const std::string& content, uint32_t mode = 0644) {
        w_->add_file("files/" + rel, content, mode, kMtime);
        EntryRecord r;
        r.path = "files/" + rel;
        r.type = "file";
        r.size = content.size();
        r.mode = mode;
        r.mtime = kMtime;
        r.sha256 = Sha256::hex(content);
        record(r);
    }
    void dir(const std::string& rel, uint32_t mode = 0755) {
        EntryInfo e;
        e.path = "files/" + rel;
        e.type = EntryType::directory;
        e.mode = mode;
        e.mtime = kMtime;
        w_->begin_entry(e);
        w_->end_entry();
        EntryRecord r;
        r.path = e.path;
        r.type = "dir";
        r.mode = mode;
        r.mtime = kMtime;
        record(r);
    }
    void symlink(const std::string& rel, const std::string& target) {
        EntryInfo e;
        e.path = "files/" + rel;
        e.type = EntryType::symlink;
        e.mode = 0777;
        e.mtime = kMtime;
        e.link_target = target;
        w_->begin_entry(e);
        w_->end_entry();
        EntryRecord r;
        r.path = e.path;
        r.type = "symlink";
        r.mode = 0777;
        r.mtime = kMtime;
        r.target = target;
        record(r);
    }
    // One slice "chunks/<size>/<offset>/<rel>"; the last one records the whole file as files/<rel>.
    void slice(const std::string& rel, const std::string& whole, uint64_t offset, uint64_t len, uint32_t mode = 0644) {
        EntryInfo e;
        e.path = "chunks/" + std::to_string(whole.size()) + "/" + std::to_string(offset) + "/" + rel;
        e.type = EntryType::file;
        e.size = len;
        e.mode = mode;
        e.mtime = kMtime;
        w_->begin_entry(e);
        w_->write_data(whole.data() + offset, len);
        w_->end_entry();
        if (offset + len == whole.size()) {
            EntryRecord r;
            r.path = "files/" + rel;
            r.type = "file";
            r.size = whole.size();
            r.mode = mode;
            r.mtime = kMtime;
            r.sha256 = Sha256::hex(whole);
            record(r);
        }
    }
    // One slice "sql-slices/<size>/<offset>/<chunk name>" of a table chunk; the last one records the whole chunk
    // as database/<chunk name>.
    void sql_slice(const std::string& table, size_t n, const Chunk& c, uint64_t offset, uint64_t len) {
        const std::string name = table_chunk_name(table, n);
        w_->add_file(sql_slice_path(c.sql.size(), offset, name), c.sql.substr(offset, len), 0644, kMtime);
        if (offset + len == c.sql.size()) record_chunk(table, n, c);
    }
    // Any entry, unrecorded (hostile input).
    void raw_file(const std::string& path, const std::string& content) { w_->add_file(path, content, 0644, kMtime); }
    void manifest() { manifest_.write_to(*w_, site_, manifest_options(), kMtime); }
    // Ends the open segment, then sends the manifest the way a push sends one larger than a part: `pieces`
    // slices of about equal size, each in a segment of its own, "manifest-slices/<offset>" and last
    // "manifest.json". Leaves no segment open.
    void manifest_in_slices(size_t pieces) {
        end();
        const std::string head = manifest_.head(site_, manifest_options());
        const uint64_t size = manifest_.text_size(head);
        uint64_t at = 0;
        for (size_t k = 0; k < pieces; ++k) {
            const bool last = k + 1 == pieces;
            const uint64_t len = last ? size - at : size / pieces;
            begin();
            manifest_.write_range(*w_, last ? "manifest.json" : ManifestWriter::slice_path(at), head, at, len,
                                  kMtime);
            end();
            at += len;
        }
    }

    std::vector<std::string> segments;

private:
    static json manifest_options() {
        return {{"compression", "zstd"}, {"all_tables", false}, {"excludes", json::array()}, {"push", true}};
    }
    void record(EntryRecord r) {
        if (tamper) tamper(r);
        manifest_.add(r);
    }
    // The manifest's record of table chunk n: database/<chunk name>, whatever way its bytes travelled.
    void record_chunk(const std::string& table, size_t n, const Chunk& c) {
        EntryRecord r;
        r.path = "database/" + table_chunk_name(table, n);
        r.type = "file";
        r.size = c.sql.size();
        r.mode = 0644;
        r.mtime = kMtime;
        r.sha256 = Sha256::hex(c.sql);
        r.table = table;
        r.rows = c.res.rows;
        r.checksum = c.res.checksum;
        record(r);
    }
    SiteInfo site_;
    ManifestWriter manifest_;
    std::unique_ptr<ArchiveWriter> w_;
    std::string cur_;
};

std::string pattern_bytes(size_t n, uint32_t seed) {
    std::string s(n, '\0');
    uint32_t x = seed;
    for (size_t i = 0; i < n; ++i) {
        x = x * 1664525u + 1013904223u;
        s[i] = static_cast<char>(x >> 24);
    }
    return s;
}

bool is_hex64(const std::string& s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
}

// Calls fn on every string found anywhere in j (keys included).
void each_string(const json& j, const std::function<void(const std::string&)>& fn) {
    if (j.is_string()) {
        fn(j.get<std::string>());
    } else if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            fn(it.key());
            each_string(it.value(), fn);
        }
    } else if (j.is_array()) {
        for (const auto& v : j) each_string(v, fn);
    }
}

// ---- receiving -----------------------------------------------------------------------------------------------

const char* const kSourceUrl = "http://source.example";
const char* const kDestUrl = "http://dest.example";
const char* const kSrc = "slt_src_";
const char* const kDst = "slt_rx_";
const char* const kNewIndex = "<?php // new source index\n";
const char* const kSourceConfig = "<?php // source config, never installed\n";
const char* const kSmall = "small file\n";

class ReceivePush : public ::testing::Test {
protected:
    void SetUp() override {
        std::string why;
        if (!env_config(cfg_, why)) FAIL() << why;
        isolate(cfg_);
        target_.root = root_.path;
        target_.db = cfg_;
        target_.table_prefix = kDst;
        opt_.target = target_;
        opt_.url = kDestUrl;
        opt_.min_free_bytes = 1 << 20;
        cleanup();

        Connection c(cfg_);
        // The source site.
        c.execute("CREATE TABLE slt_src_options (option_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, "
                  "option_name VARCHAR(191) NOT NULL, option_value LONGTEXT NOT NULL, autoload VARCHAR(20) NOT NULL "
                  "DEFAULT 'yes', UNIQUE KEY option_name (option_name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        c.execute("INSERT INTO slt_src_options (option_name, option_value, autoload) VALUES ('siteurl', " +
                  c.quote(kSourceUrl) + ", 'yes'), ('home', " + c.quote(kSourceUrl) +
                  ", 'yes'), ('blogname', 'Source blog', 'yes'), ('slt_src_user_roles', 'a:0:{}', 'yes')");
        c.execute("CREATE TABLE slt_src_posts (ID BIGINT UNSIGNED NOT NULL PRIMARY KEY, post_title TEXT, "
                  "post_content LONGTEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        std::string ins = "INSERT INTO slt_src_posts VALUES ";
        for (int i = 0; i < 25; ++i)
            ins += std::string(i ? "," : "") + "(" + std::to_string(3 * i + 2) + ", " + c.quote("Post " + std::to_string(i)) +
                   ", " + c.quote("content 'of' post\n" + std::to_string(i)) + ")";
        c.execute(ins);
        c.execute("CREATE TABLE slt_src_pairs (name VARCHAR(40) NOT NULL, n INT NOT NULL, v TEXT, PRIMARY KEY (name, n)) "
                  "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        ins = "INSERT INTO slt_src_pairs VALUES ";
        for (int i = 0; i < 12; ++i)
            ins += std::string(i ? "," : "") + "(" + c.quote("n" + std::to_string(i % 4)) + ", " + std::to_string(i) + ", " +
                   c.quote("v" + std::to_string(i)) + ")";
        c.execute(ins);
        c.execute("CREATE TABLE slt_src_log (msg VARCHAR(50), at INT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        ins = "INSERT INTO slt_src_log VALUES ";
        for (int i = 0; i < 15; ++i)
            ins += std::string(i ? "," : "") + "(" + c.quote("same") + ", " + std::to_string(i % 3) + ")";
        c.execute(ins);

        // The destination's live site.
        c.execute("CREATE TABLE slt_rx_options (option_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, "
                  "option_name VARCHAR(191) NOT NULL, option_value LONGTEXT NOT NULL, autoload VARCHAR(20) NOT NULL "
                  "DEFAULT 'yes', UNIQUE KEY option_name (option_name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        c.execute("INSERT INTO slt_rx_options (option_name, option_value, autoload) VALUES ('home', " + c.quote(kDestUrl) +
                  ", 'yes'), ('siteurl', " + c.quote(kDestUrl) + ", 'yes'), ('sitelift_marker', 'kept', 'no')");
        c.execute("CREATE TABLE slt_rx_posts (ID BIGINT UNSIGNED NOT NULL PRIMARY KEY, post_title TEXT) ENGINE=InnoDB");
        c.execute("INSERT INTO slt_rx_posts VALUES (1, 'old destination post')");
        c.execute("CREATE TABLE slt_rx_extra (x INT) ENGINE=InnoDB");
        c.execute("INSERT INTO slt_rx_extra VALUES (7)");
        live_posts_ = row_digest(c, "slt_rx_posts");
        live_options_ = row_digest(c, "slt_rx_options");

        write_file(root_ / "index.php", "<?php // old destination index\n");
        write_file(root_ / "wp-config.php", "<?php // destination config\n");
        fs::create_directory(root_ / "old-only");
        write_file(root_ / "old-only/keep.txt", "old");

        big_ = pattern_bytes(300000, 42);

        site_.home = kSourceUrl;
        site_.siteurl = kSourceUrl;
        site_.abspath = "/srv/source-site-root";
        site_.table_prefix = kSrc;
        site_.charset = "utf8mb4";
        site_.tables = {"slt_src_options", "slt_src_posts", "slt_src_pairs", "slt_src_log"};
        site_.wp_version = "6.5";
    }

    void TearDown() override {
        cleanup();
        drop_isolated(cfg_);
    }

    void cleanup() {
        try {
            receive_forget(target_);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "receive_forget: " << e.what();
        }
        try {
            cleanup_site(target_);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "cleanup_site: " << e.what();
        }
        try {
            Connection c(cfg_);
            drop_prefixed(c, kSrc);
            drop_prefixed(c, kDst);
            // Nothing of the importer may be left for the next test.
            EXPECT_EQ(tables_with_prefix(c, "sl_stage_").size(), 0u);
            EXPECT_EQ(tables_with_prefix(c, "sl_bak_").size(), 0u);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "dropping test tables: " << e.what();
        }
    }

    // The push stream of the source tables and files (see docs/push-design.md). With manifest_pieces > 1 the
    // manifest comes in that many parts of its own, as for a manifest larger than a part.
    std::vector<std::string> build(const std::function<void(EntryRecord&)>& tamper = nullptr, size_t manifest_pieces = 1) {
        std::vector<Chunk> options = dump_in_chunks(cfg_, "slt_src_options", 1000, 1 << 20);
        std::vector<Chunk> posts = dump_in_chunks(cfg_, "slt_src_posts", 10, 1 << 20);
        std::vector<Chunk> pairs = dump_in_chunks(cfg_, "slt_src_pairs", 10, 1 << 20);
        std::vector<Chunk> log = dump_in_chunks(cfg_, "slt_src_log", 10, 1 << 20);
        EXPECT_EQ(options.size(), 1u);
        EXPECT_EQ(posts.size(), 3u);
        EXPECT_EQ(pairs.size(), 2u);
        EXPECT_EQ(log.size(), 2u);
        SegmentBuilder b(site_);
        b.tamper = tamper;
        b.begin();  // 0
        b.site_json();
        b.table_chunk("slt_src_options", 0, options[0]);
        b.end();
        b.begin();  // 1
        b.table_chunk("slt_src_posts", 0, posts[0]);
        b.table_chunk("slt_src_posts", 1, posts[1]);
        b.end();
        b.begin();  // 2
        b.table_chunk("slt_src_posts", 2, posts[2]);
        b.table_chunk("slt_src_pairs", 0, pairs[0]);
        b.table_chunk("slt_src_pairs", 1, pairs[1]);
        b.table_chunk("slt_src_log", 0, log[0]);
        b.end();
        b.begin();  // 3
        b.table_chunk("slt_src_log", 1, log[1]);
        b.file("index.php", kNewIndex);
        b.file("wp-config.php", kSourceConfig);
        b.dir("wp-content");
        b.file("wp-content/small.txt", kSmall, 0640);
        b.dir("wp-content/uploads");
        b.slice("wp-content/uploads/big.bin", big_, 0, 100000);
        b.end();
        b.begin();  // 4
        b.slice("wp-content/uploads/big.bin", big_, 100000, 150000);
        b.end();
        b.begin();  // 5
        b.slice("wp-content/uploads/big.bin", big_, 250000, 50000);
        b.symlink("wp-content/link.txt", "small.txt");
        if (manifest_pieces > 1) {
            b.manifest_in_slices(manifest_pieces);
        } else {
            b.manifest();
            b.end();
        }
        return b.segments;
    }

    // Part 0 as a push makes it: site.json and the options table whole.
    void site_and_options(SegmentBuilder& b) {
        std::vector<Chunk> options = dump_in_chunks(cfg_, "slt_src_options", 1000, 1 << 20);
        ASSERT_EQ(options.size(), 1u);
        b.begin();
        b.site_json();
        b.table_chunk("slt_src_options", 0, options[0]);
        b.end();
    }

    // The source's files, big.bin whole, and the manifest, ending the open segment.
    void whole_files_and_manifest(SegmentBuilder& b) {
        b.file("index.php", kNewIndex);
        b.file("wp-config.php", kSourceConfig);
        b.dir("wp-content");
        b.file("wp-content/small.txt", kSmall, 0640);
        b.dir("wp-content/uploads");
        b.file("wp-content/uploads/big.bin", big_);
        b.symlink("wp-content/link.txt", "small.txt");
        b.manifest();
        b.end();
    }

    // A push whose part 1 holds every chunk of two tables, interleaved (posts 0, pairs 0, posts 1, ...), so the
    // receiver loads several chunks of one part at once; part 2 has the log table, the files and the manifest.
    // posts_ keeps the chunks of slt_src_posts (their last keys tell which rows a chunk holds).
    std::vector<std::string> build_many() {
        posts_ = dump_in_chunks(cfg_, "slt_src_posts", 3, 1 << 20);
        std::vector<Chunk> pairs = dump_in_chunks(cfg_, "slt_src_pairs", 3, 1 << 20);
        std::vector<Chunk> log = dump_in_chunks(cfg_, "slt_src_log", 4, 1 << 20);
        EXPECT_EQ(posts_.size(), 9u);
        EXPECT_EQ(pairs.size(), 5u);  // the last one empty
        EXPECT_EQ(log.size(), 4u);
        SegmentBuilder b(site_);
        site_and_options(b);
        b.begin();  // 1
        for (size_t k = 0; k < posts_.size(); ++k) {
            b.table_chunk("slt_src_posts", k, posts_[k]);
            if (k < pairs.size()) b.table_chunk("slt_src_pairs", k, pairs[k]);
        }
        b.end();
        b.begin();  // 2
        for (size_t k = 0; k < log.size(); ++k) b.table_chunk("slt_src_log", k, log[k]);
        whole_files_and_manifest(b);
        return b.segments;
    }

    // build(), but chunk 1 of slt_src_posts goes as three slices, each in a part of its own (parts 2, 3, 4),
    // the way a push sends a chunk of one row larger than a part. sliced_ keeps that chunk.
    std::vector<std::string> build_sliced() {
        std::vector<Chunk> posts = dump_in_chunks(cfg_, "slt_src_posts", 10, 1 << 20);
        std::vector<Chunk> pairs = dump_in_chunks(cfg_, "slt_src_pairs", 100, 1 << 20);
        std::vector<Chunk> log = dump_in_chunks(cfg_, "slt_src_log", 100, 1 << 20);
        EXPECT_EQ(posts.size(), 3u);
        sliced_ = posts[1];
        const uint64_t size = sliced_.sql.size(), third = size / 3;
        SegmentBuilder b(site_);
        site_and_options(b);
        b.begin();  // 1
        b.table_chunk("slt_src_posts", 0, posts[0]);
        b.end();
        for (uint64_t at : {uint64_t(0), third, 2 * third}) {  // 2, 3, 4
            b.begin();
            b.sql_slice("slt_src_posts", 1, sliced_, at, at == 2 * third ? size - at : third);
            b.end();
        }
        b.begin();  // 5
        b.table_chunk("slt_src_posts", 2, posts[2]);
        b.table_chunk("slt_src_pairs", 0, pairs[0]);
        b.table_chunk("slt_src_log", 0, log[0]);
        whole_files_and_manifest(b);
        return b.segments;
    }

    // A part of one entry (hand-made input), optionally followed by a second one.
    static std::string single_entry_part(const std::string& path, const std::string& content,
                                         const std::string& then = "") {
        std::string out;
        WriterOptions wo;
        wo.compression = Compression::zstd;
        wo.threads = 1;
        wo.background = false;
        ArchiveWriter w([&](const void* d, size_t n) { out.append(static_cast<const char*>(d), n); }, wo);
        w.add_file(path, content, 0644, kMtime);
        if (!then.empty()) w.add_file(then, "x", 0644, kMtime);
        w.close();
        return out;
    }

    // Part `index` is refused with an error of `kind`, and the job's record stays as it was.
    void expect_refused(uint64_t index, const std::string& part, const char* what, ErrorKind kind = ErrorKind::archive) {
        const std::string before = read_file(job_path());
        try {
            receive_apply(opt_, job_, index, part);
            ADD_FAILURE() << what << ": accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), kind) << what << ": " << e.what();
        }
        EXPECT_EQ(read_file(job_path()), before) << what;
    }

    std::string job_path() const { return root_.path + "/.sitelift/receive/job.json"; }

    // Applies part i, then puts job.json back as it was before (a crash after the part was applied but before
    // its record was written), so that the part arrives again on the old record. Returns the first answer.
    json apply_then_crash(uint64_t i, const std::string& part) {
        const std::string before = read_file(job_path());
        json first = receive_apply(opt_, job_, i, part);
        write_file(job_path(), before);
        return first;
    }
    std::string ledger() const { return "sl_stage_" + std::string(kDst) + "_sitelift_ledger"; }

    // Makes the state a crash leaves when chunk k of slt_src_posts had not committed but the later chunks of
    // part 1 (build_many) had: part 1 applied, then chunk k's rows and ledger row taken away and job.json put
    // back as it was before the part. Replays the part and finishes: every row must be there exactly once.
    void replay_with_chunk_lost(size_t k) {
        std::vector<std::string> seg = build_many();
        receive_begin(opt_, job_, json::object());
        receive_apply(opt_, job_, 0, seg[0]);
        const std::string before = read_file(job_path());
        const json first = receive_apply(opt_, job_, 1, seg[1]);
        {
            Connection c(cfg_);
            const std::string stage = "sl_stage_" + std::string(kDst) + "posts";
            std::string rows = "ID <= " + posts_.at(k).res.last_key.at(0);
            if (k > 0) rows += " AND ID > " + posts_[k - 1].res.last_key.at(0);
            c.execute("DELETE FROM " + q(stage) + " WHERE " + rows);
            c.execute("DELETE FROM " + q(ledger()) + " WHERE tbl = 'slt_src_posts' AND chunk = " + std::to_string(k));
            ASSERT_EQ(count_rows(c, stage), 25u - posts_[k].res.rows);
        }
        write_file(job_path(), before);  // the crash
        json second;
        ASSERT_NO_THROW(second = receive_apply(opt_, job_, 1, seg[1]));
        EXPECT_EQ(second.value("next_index", uint64_t(0)), 2u);
        EXPECT_EQ(second["counts"], first["counts"]);
        expect_staged_as_source({"posts", "pairs"});
        {
            Connection c(cfg_);
            EXPECT_EQ(c.scalar("SELECT COUNT(*) FROM " + q(ledger()) + " WHERE tbl = 'slt_src_posts'").value_or(""), "9");
        }
        ASSERT_NO_THROW(receive_apply(opt_, job_, 2, seg[2]));
        ASSERT_NO_THROW(receive_finish(opt_, job_));
        expect_swapped();
    }

    // Each staged table holds exactly the source's rows.
    void expect_staged_as_source(const std::vector<const char*>& tables) {
        Connection c(cfg_);
        for (const char* t : tables)
            EXPECT_EQ(row_digest(c, "sl_stage_" + std::string(kDst) + t), row_digest(c, std::string(kSrc) + t)) << t;
    }

    // The destination holds the source's site, adapted.
    void expect_swapped() {
        Connection c(cfg_);
        for (const char* t : {"posts", "pairs", "log"})
            EXPECT_EQ(row_digest(c, std::string(kDst) + t), row_digest(c, std::string(kSrc) + t)) << t;
        EXPECT_EQ(c.scalar("SELECT option_value FROM slt_rx_options WHERE option_name = 'home'").value_or(""), kDestUrl);
        EXPECT_EQ(c.scalar("SELECT option_value FROM slt_rx_options WHERE option_name = 'siteurl'").value_or(""), kDestUrl);
        EXPECT_EQ(c.scalar("SELECT option_value FROM slt_rx_options WHERE option_name = 'blogname'").value_or(""),
                  "Source blog");
        EXPECT_EQ(c.scalar("SELECT option_value FROM slt_rx_options WHERE option_name = 'sitelift_marker'").value_or(""),
                  "kept");
        // The source's four options plus the destination's own sitelift_% ones, nothing else.
        EXPECT_EQ(c.scalar("SELECT COUNT(*) FROM slt_rx_options WHERE option_name NOT LIKE 'sitelift\\_%'").value_or(""),
                  "4");
        EXPECT_TRUE(c.scalar("SELECT COUNT(*) FROM slt_rx_options WHERE option_name = 'slt_rx_user_roles'") ==
                    std::optional<std::string>("1"));
        EXPECT_FALSE(table_exists(c, "slt_rx_extra"));  // kept aside with the replaced site
        EXPECT_TRUE(table_exists(c, "sl_bak_slt_rx_extra"));
        EXPECT_EQ(tables_with_prefix(c, "sl_stage_").size(), 0u);
        EXPECT_EQ(read_file(root_ / "index.php"), kNewIndex);
        EXPECT_EQ(read_file(root_ / "wp-config.php"), "<?php // destination config\n");
        EXPECT_EQ(read_file(root_ / "wp-content/small.txt"), kSmall);
        EXPECT_EQ(read_file(root_ / "wp-content/uploads/big.bin"), big_);
        std::error_code ec;
        EXPECT_TRUE(fs::is_symlink(root_ / "wp-content/link.txt", ec));
        EXPECT_EQ(fs::read_symlink(root_ / "wp-content/link.txt", ec).string(), "small.txt");
        // Top-level entries the source does not have stay (the swap replaces entry by entry).
        EXPECT_EQ(read_file(root_ / "old-only/keep.txt"), "old");
        struct stat st;
        ASSERT_EQ(::stat((root_ / "wp-content/small.txt").c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, 0640u);
        EXPECT_EQ(st.st_mtime, kMtime);
    }

    // The live site is the destination's own, as before the push (and, unless staging, nothing is kept aside).
    void expect_untouched(bool staging = false) {
        Connection c(cfg_);
        EXPECT_EQ(row_digest(c, "slt_rx_posts"), live_posts_);
        EXPECT_EQ(row_digest(c, "slt_rx_options"), live_options_);
        EXPECT_TRUE(table_exists(c, "slt_rx_extra"));
        EXPECT_FALSE(table_exists(c, "slt_rx_pairs"));
        EXPECT_FALSE(table_exists(c, "slt_rx_log"));
        if (!staging) {
            EXPECT_EQ(tables_with_prefix(c, "sl_stage_").size(), 0u);
        }
        EXPECT_EQ(tables_with_prefix(c, "sl_bak_").size(), 0u);
        EXPECT_EQ(read_file(root_ / "index.php"), "<?php // old destination index\n");
        EXPECT_EQ(read_file(root_ / "old-only/keep.txt"), "old");
        EXPECT_FALSE(exists_nofollow(root_ / "wp-content"));
    }

    uint64_t stage_rows(const std::string& t) {
        Connection c(cfg_);
        const std::string name = "sl_stage_" + std::string(kDst) + t;
        return table_exists(c, name) ? count_rows(c, name) : 0;
    }

    DbConfig cfg_;
    TempDir root_;
    SiteTarget target_;
    ImportOptions opt_;
    SiteInfo site_;
    std::string big_, live_posts_, live_options_;
    std::vector<Chunk> posts_;
    Chunk sliced_;
    const std::string job_ = "0123456789abcdef0123456789abcdef";
};

TEST_F(ReceivePush, AppliesPartsInOrderAndSwaps) {
    std::vector<std::string> seg = build();
    ASSERT_EQ(seg.size(), 6u);
    json st = receive_begin(opt_, job_, {{"url", kSourceUrl}});
    EXPECT_EQ(st.value("phase", ""), "receiving");
    EXPECT_EQ(st.value("next_index", -1), 0);
    for (size_t i = 0; i < seg.size(); ++i) {
        ASSERT_NO_THROW(st = receive_apply(opt_, job_, i, seg[i])) << "part " << i;
        EXPECT_EQ(st.value("next_index", uint64_t(0)), i + 1);
    }
    // Nothing is live before finish.
    expect_untouched(true);
    EXPECT_EQ(stage_rows("posts"), 25u);
    json done;
    ASSERT_NO_THROW(done = receive_finish(opt_, job_));
    EXPECT_EQ(done.value("phase", ""), "done");
    ASSERT_TRUE(done.contains("result"));
    EXPECT_EQ(done["result"].value("rows", 0), 4 + 25 + 12 + 15);
    EXPECT_EQ(done["result"].value("tables", 0), 4);
    EXPECT_EQ(done["result"]["table_reports"]["slt_rx_posts"].value("rows", 0), 25);
    EXPECT_EQ(done["result"].value("file_bytes", uint64_t(0)),
              std::string(kNewIndex).size() + std::string(kSourceConfig).size() + std::string(kSmall).size() + big_.size());
    EXPECT_EQ(done["result"].value("files", 0), 4);
    EXPECT_EQ(done["result"].value("dirs", 0), 2);
    EXPECT_EQ(done["result"].value("symlinks", 0), 1);
    expect_swapped();
    // Finishing again answers with the same record and changes nothing.
    json again = receive_finish(opt_, job_);
    EXPECT_EQ(again.value("phase", ""), "done");
    EXPECT_EQ(again["result"], done["result"]);
    EXPECT_EQ(receive_state(root_.path).value("phase", ""), "done");
    // Another part after the end is refused.
    EXPECT_THROW(receive_apply(opt_, job_, seg.size(), seg.back()), Error);
    expect_swapped();
}

TEST_F(ReceivePush, SamePartTwiceChangesNothing) {
    std::vector<std::string> seg = build();
    receive_begin(opt_, job_, json::object());
    receive_apply(opt_, job_, 0, seg[0]);
    receive_apply(opt_, job_, 1, seg[1]);
    const std::string before = read_file(job_path());
    const uint64_t posts = stage_rows("posts"), options = stage_rows("options");
    EXPECT_EQ(posts, 20u);
    for (uint64_t i : {1u, 0u, 1u}) {
        json st;
        ASSERT_NO_THROW(st = receive_apply(opt_, job_, i, seg[i]));
        EXPECT_EQ(st.value("next_index", uint64_t(0)), 2u);
        EXPECT_EQ(read_file(job_path()), before);
        EXPECT_EQ(stage_rows("posts"), posts);
        EXPECT_EQ(stage_rows("options"), options);
    }
    for (size_t i = 2; i < seg.size(); ++i) receive_apply(opt_, job_, i, seg[i]);
    ASSERT_NO_THROW(receive_finish(opt_, job_));
    expect_swapped();
}

TEST_F(ReceivePush, PartAheadOfItsTurnIsAStateError) {
    std::vector<std::string> seg = build();
    receive_begin(opt_, job_, json::object());
    receive_apply(opt_, job_, 0, seg[0]);
    const std::string before = read_file(job_path());
    try {
        receive_apply(opt_, job_, 2, seg[2]);
        ADD_FAILURE() << "part 2 before part 1 was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::state) << e.what();
    }
    EXPECT_EQ(read_file(job_path()), before);
    EXPECT_EQ(stage_rows("pairs"), 0u);
    // Finishing before the last part is refused too.
    EXPECT_THROW(receive_finish(opt_, job_), Error);
    for (size_t i = 1; i < seg.size(); ++i) receive_apply(opt_, job_, i, seg[i]);
    ASSERT_NO_THROW(receive_finish(opt_, job_));
    expect_swapped();
}

TEST_F(ReceivePush, WrongJobIsAStateError) {
    std::vector<std::string> seg = build();
    receive_begin(opt_, job_, json::object());
    try {
        receive_apply(opt_, job_, 0, seg[0]);
        receive_apply(opt_, "fedcba9876543210fedcba9876543210", 1, seg[1]);
        ADD_FAILURE() << "a part of another job was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::state) << e.what();
    }
    EXPECT_EQ(receive_state(root_.path).value("next_index", 0), 1);
}

// A crash after part i was applied but before job.json said so: the part arrives again on the old record.
TEST_F(ReceivePush, ReplayAfterCrashAppliesNothingTwice) {
    std::vector<std::string> seg = build();
    receive_begin(opt_, job_, json::object());
    for (size_t i = 0; i < seg.size(); ++i) {
        SCOPED_TRACE("part " + std::to_string(i));
        json first = apply_then_crash(i, seg[i]);
        EXPECT_EQ(receive_state(root_.path).value("next_index", uint64_t(99)), i);
        json second;
        ASSERT_NO_THROW(second = receive_apply(opt_, job_, i, seg[i]));
        EXPECT_EQ(second.value("next_index", uint64_t(0)), i + 1);
        EXPECT_EQ(second["counts"], first["counts"]);
        EXPECT_EQ(second.value("spool_bytes", uint64_t(0)), first.value("spool_bytes", uint64_t(1)));
    }
    EXPECT_EQ(stage_rows("posts"), 25u);
    EXPECT_EQ(stage_rows("pairs"), 12u);
    EXPECT_EQ(stage_rows("log"), 15u);  // no primary key: only the ledger keeps these from doubling
    json done;
    ASSERT_NO_THROW(done = receive_finish(opt_, job_));
    EXPECT_EQ(done["result"].value("rows", 0), 4 + 25 + 12 + 15);
    expect_swapped();
}

// A manifest larger than a part comes in slices, each in a part of its own; the destination joins them, also
// when a part is applied again after a crash.
TEST_F(ReceivePush, ManifestInSlicesIsJoinedEvenAfterReplays) {
    std::vector<std::string> seg = build(nullptr, 3);
    ASSERT_EQ(seg.size(), 9u);
    receive_begin(opt_, job_, json::object());
    for (size_t i = 0; i < seg.size(); ++i) {
        SCOPED_TRACE("part " + std::to_string(i));
        json st;
        // The manifest's parts are applied, the state put back as before (a crash), and applied again.
        if (i >= 6) {
            ASSERT_NO_THROW(apply_then_crash(i, seg[i]));
        }
        ASSERT_NO_THROW(st = receive_apply(opt_, job_, i, seg[i]));
        EXPECT_EQ(st.value("next_index", uint64_t(0)), i + 1);
        EXPECT_EQ(st.value("manifest_seen", false), i + 1 == seg.size());
    }
    json done;
    ASSERT_NO_THROW(done = receive_finish(opt_, job_));
    EXPECT_EQ(done.value("phase", ""), "done");
    EXPECT_EQ(done["result"].value("rows", 0), 4 + 25 + 12 + 15);
    expect_swapped();
}

// Slices of the manifest come in order, and nothing but the manifest follows one.
TEST_F(ReceivePush, ManifestSlicesOutOfOrderOrFollowedByOtherEntriesAreRefused) {
    std::vector<std::string> seg = build(nullptr, 3);
    ASSERT_EQ(seg.size(), 9u);
    receive_begin(opt_, job_, json::object());
    for (size_t i = 0; i < 6; ++i) ASSERT_NO_THROW(receive_apply(opt_, job_, i, seg[i])) << "part " << i;
    expect_refused(6, single_entry_part("manifest-slices/7", "{"), "a first slice that does not start at 0");
    expect_refused(6, single_entry_part("manifest-slices/00", "{"), "an offset with a leading zero");
    expect_refused(6, single_entry_part("manifest-slices/0", "{", "files/late.txt"), "a file after a slice");
    // The real parts still apply, and the push finishes.
    for (size_t i = 6; i < seg.size(); ++i) ASSERT_NO_THROW(receive_apply(opt_, job_, i, seg[i])) << "part " << i;
    ASSERT_NO_THROW(receive_finish(opt_, job_));
    expect_swapped();
}

// A table chunk larger than a part (one big row) comes in slices, each in a part of its own; the destination
// joins them and loads the chunk with the last one, also when a part is applied again after a crash.
TEST_F(ReceivePush, TableChunkInSlicesIsJoinedEvenAfterReplays) {
    std::vector<std::string> seg = build_sliced();
    ASSERT_EQ(seg.size(), 6u);
    receive_begin(opt_, job_, json::object());
    for (size_t i = 0; i < seg.size(); ++i) {
        SCOPED_TRACE("part " + std::to_string(i));
        // The slices are applied, the state put back as before (a crash), and applied again.
        if (i >= 2 && i <= 4) {
            ASSERT_NO_THROW(apply_then_crash(i, seg[i]));
        }
        json st;
        ASSERT_NO_THROW(st = receive_apply(opt_, job_, i, seg[i]));
        EXPECT_EQ(st.value("next_index", uint64_t(0)), i + 1);
        // The chunk loads with its last slice, not before.
        EXPECT_EQ(stage_rows("posts"), i == 0 ? 0u : i < 4 ? 10u : i == 4 ? 20u : 25u);
        EXPECT_EQ(st["sql_slice"].is_null(), i < 2 || i >= 4);
    }
    expect_staged_as_source({"posts", "pairs", "log"});
    json done;
    ASSERT_NO_THROW(done = receive_finish(opt_, job_));
    EXPECT_EQ(done["result"].value("rows", 0), 4 + 25 + 12 + 15);
    EXPECT_FALSE(fs::exists(root_.path + "/.sitelift/receive/row.sql"));
    expect_swapped();
}

// A slice at offset 0 starts the chunk over (the source lost its copy of the text). Anything else out of turn,
// another entry between two slices, a slice of a chunk that is not next, and finishing with a chunk in part
// are refused, and what was received stays.
TEST_F(ReceivePush, TableChunkSlicesStartOverAtZeroAndNothingElseOutOfTurn) {
    std::vector<std::string> seg = build_sliced();
    ASSERT_EQ(seg.size(), 6u);
    const std::string& sql = sliced_.sql;
    const uint64_t third = sql.size() / 3;
    const std::string name = table_chunk_name("slt_src_posts", 1);
    receive_begin(opt_, job_, json::object());
    for (size_t i = 0; i < 2; ++i) ASSERT_NO_THROW(receive_apply(opt_, job_, i, seg[i])) << "part " << i;
    expect_refused(2, single_entry_part(sql_slice_path(sql.size(), third, name), sql.substr(third, third)),
                   "a first slice that does not start at 0");
    expect_refused(2, single_entry_part(sql_slice_path(sql.size(), 0, table_chunk_name("slt_src_posts", 2)),
                                        sql.substr(0, third)),
                   "a slice of a chunk that is not next");
    expect_refused(2, single_entry_part(sql_slice_path(kMaxSlicedChunk + 1, 0, name), sql.substr(0, third)),
                   "a chunk larger than any the parser takes", ErrorKind::security);
    expect_refused(2, single_entry_part(sql_slice_path(sql.size(), 0, "x/slt_src_posts.sql"), sql.substr(0, third)),
                   "a name with a slash", ErrorKind::security);
    ASSERT_NO_THROW(receive_apply(opt_, job_, 2, seg[2]));
    ASSERT_NO_THROW(receive_apply(opt_, job_, 3, seg[3]));
    expect_refused(4, single_entry_part("files/late.txt", "x"), "a file between two slices");
    expect_refused(4, single_entry_part(sql_slice_path(sql.size(), third, name), sql.substr(third, third)),
                   "a slice sent twice");
    try {
        receive_finish(opt_, job_);
        ADD_FAILURE() << "finished with a chunk in part";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::state) << e.what();
    }
    // Started over: the first two slices again, now as parts 4 and 5, then the last as part 6.
    ASSERT_NO_THROW(receive_apply(opt_, job_, 4, seg[2]));
    EXPECT_EQ(stage_rows("posts"), 10u);
    ASSERT_NO_THROW(receive_apply(opt_, job_, 5, seg[3]));
    ASSERT_NO_THROW(receive_apply(opt_, job_, 6, seg[4]));
    EXPECT_EQ(stage_rows("posts"), 20u);
    ASSERT_NO_THROW(receive_apply(opt_, job_, 7, seg[5]));
    ASSERT_NO_THROW(receive_finish(opt_, job_));
    expect_swapped();
}

// A part holding many chunks of two tables: on two connections, every row still arrives exactly once.
TEST_F(ReceivePush, ManyChunksOfOnePartLoadEveryRowOnce) {
    std::vector<std::string> seg = build_many();
    ASSERT_EQ(seg.size(), 3u);
    receive_begin(opt_, job_, json::object());
    for (size_t i = 0; i < seg.size(); ++i) ASSERT_NO_THROW(receive_apply(opt_, job_, i, seg[i])) << "part " << i;
    expect_staged_as_source({"posts", "pairs", "log"});
    {
        Connection c(cfg_);
        EXPECT_EQ(c.scalar("SELECT COUNT(*) FROM " + q(ledger()) + " WHERE tbl <> ''").value_or(""), "19");  // 1 + 9 + 5 + 4
    }
    json done;
    ASSERT_NO_THROW(done = receive_finish(opt_, job_));
    EXPECT_EQ(done["result"].value("rows", 0), 4 + 25 + 12 + 15);
    EXPECT_EQ(done["result"].value("tables", 0), 4);
    expect_swapped();
}

// On two connections, chunk k + 1 may commit while chunk k does not when the process dies (see
// ReceivePush::replay_with_chunk_lost). The replayed part must load chunk k and skip k + 1.
TEST_F(ReceivePush, ChunkCommittedBeforeAnEarlierOneIsNotLoadedTwice) { replay_with_chunk_lost(3); }

// The same for chunk 0: the table is made anew (its CREATE had run) and every chunk of it loaded again.
TEST_F(ReceivePush, ChunksCommittedBeforeChunkZeroAreLoadedAgainWithIt) { replay_with_chunk_lost(0); }

// A statement MariaDB refuses in one worker (a chunk repeating rows of the chunk before it: duplicate primary
// keys) fails the part, naming the table; the part is not acknowledged, and the corrected part applies with every
// row once, whatever the other connection had committed of it.
TEST_F(ReceivePush, RefusedStatementFailsThePartAndTheFixedPartApplies) {
    std::vector<Chunk> posts = dump_in_chunks(cfg_, "slt_src_posts", 10, 1 << 20);
    std::vector<Chunk> pairs = dump_in_chunks(cfg_, "slt_src_pairs", 10, 1 << 20);
    std::vector<Chunk> log = dump_in_chunks(cfg_, "slt_src_log", 10, 1 << 20);
    std::vector<std::string> seg = build();
    receive_begin(opt_, job_, json::object());
    receive_apply(opt_, job_, 0, seg[0]);
    receive_apply(opt_, job_, 1, seg[1]);
    const std::string before = read_file(job_path());
    SegmentBuilder bad(site_);
    bad.begin();  // part 2 with posts chunk 1 sent again as chunk 2, between chunks of other tables
    bad.table_chunk("slt_src_pairs", 0, pairs[0]);
    bad.table_chunk("slt_src_log", 0, log[0]);
    bad.table_chunk("slt_src_posts", 2, posts[1]);
    bad.table_chunk("slt_src_pairs", 1, pairs[1]);
    bad.end();
    try {
        receive_apply(opt_, job_, 2, bad.segments[0]);
        ADD_FAILURE() << "a part with duplicate keys was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::database) << e.what();
        EXPECT_NE(std::string(e.what()).find("sl_stage_slt_rx_posts"), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_file(job_path()), before);
    EXPECT_EQ(receive_state(root_.path).value("next_index", 0), 2);
    EXPECT_EQ(stage_rows("posts"), 20u);
    {
        Connection c(cfg_);
        EXPECT_EQ(c.scalar("SELECT COUNT(*) FROM " + q(ledger()) + " WHERE tbl = 'slt_src_posts'").value_or(""), "2");
    }
    for (size_t i = 2; i < seg.size(); ++i) ASSERT_NO_THROW(receive_apply(opt_, job_, i, seg[i])) << "part " << i;
    expect_staged_as_source({"posts", "pairs", "log"});
    ASSERT_NO_THROW(receive_finish(opt_, job_));
    expect_swapped();
}

// The manifest of the last segment disagrees with what arrived: finish refuses, the live site stays.
TEST_F(ReceivePush, ManifestMismatchIsIntegrityErrorAndLiveSiteStays) {
    struct Case {
        const char* what;
        std::function<void(EntryRecord&)> tamper;
    };
    const std::vector<Case> cases = {
        {"sha256 of a file",
         [](EntryRecord& r) {
             if (r.path == "files/wp-content/small.txt") r.sha256 = Sha256::hex("something else");
         }},
        {"rows of a continuation chunk",
         [](EntryRecord& r) {
             if (r.path == "database/slt_src_posts.1.sql") r.rows += 1;
         }},
        {"checksum of a first chunk",
         [](EntryRecord& r) {
             if (r.path == "database/slt_src_log.sql") r.checksum = Sha256::hex("x");
         }},
        {"sha256 of the sliced file",
         [](EntryRecord& r) {
             if (r.path == "files/wp-content/uploads/big.bin") r.sha256 = Sha256::hex("x");
         }},
        {"size of the sliced file",
         [](EntryRecord& r) {
             if (r.path == "files/wp-content/uploads/big.bin") r.size -= 1;
         }},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.what);
        std::vector<std::string> seg = build(c.tamper);
        receive_begin(opt_, job_, json::object());
        for (size_t i = 0; i < seg.size(); ++i) ASSERT_NO_THROW(receive_apply(opt_, job_, i, seg[i])) << "part " << i;
        try {
            receive_finish(opt_, job_);
            ADD_FAILURE() << "a push whose manifest disagrees was swapped in";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::integrity) << e.what();
        }
        EXPECT_EQ(receive_state(root_.path).value("phase", ""), "failed");
        expect_untouched();
        receive_forget(target_);
        EXPECT_EQ(receive_state(root_.path), json::object());
    }
}

TEST_F(ReceivePush, PathsEscapingTheStageAreSecurityErrors) {
    const std::vector<std::string> bad = {
        "files/../escaped.txt",
        "files/a/../../escaped.txt",
        "files//abs-escaped.txt",
        "chunks/10/0/../escaped.txt",
        "chunks/10/0/a/../../escaped.txt",
        "chunks/10/0//abs-escaped.txt",
        "/abs-escaped.txt",
        "../escaped.txt",
        "files/.sitelift/receive/job.json",
        "chunks/10/0/.sitelift/receive/job.json",
    };
    std::vector<std::string> seg = build();
    for (const std::string& path : bad) {
        SCOPED_TRACE(path);
        receive_begin(opt_, job_, json::object());
        receive_apply(opt_, job_, 0, seg[0]);
        const std::string before = read_file(job_path());
        SegmentBuilder b(site_);
        b.begin();
        b.raw_file(path, "0123456789");
        b.end();
        try {
            receive_apply(opt_, job_, 1, b.segments[0]);
            ADD_FAILURE() << "accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::security) << e.what();
        }
        EXPECT_EQ(read_file(job_path()), before);
        EXPECT_FALSE(exists_nofollow(root_.path + "/.sitelift/stage/escaped.txt"));
        EXPECT_FALSE(exists_nofollow(root_.path + "/.sitelift/escaped.txt"));
        EXPECT_FALSE(exists_nofollow(root_.path + "/escaped.txt"));
        EXPECT_FALSE(exists_nofollow("/abs-escaped.txt"));
        receive_forget(target_);
    }
    expect_untouched();
}

// Small files are written on a second thread. A file that cannot be written there (its folder is a file
// staged just before it, in the same part) fails the part like any other failure: nothing acknowledged, and
// the files before it in the part, many of them still queued when the failure happened, are all written when
// the part is fixed and sent again.
TEST_F(ReceivePush, FileThatCannotBeWrittenFailsThePart) {
    std::vector<std::string> seg = build();
    receive_begin(opt_, job_, json::object());
    receive_apply(opt_, job_, 0, seg[0]);
    const std::string before = read_file(job_path());
    auto part = [&](bool broken) {
        SegmentBuilder b(site_);
        b.begin();
        for (int i = 0; i < 200; ++i) b.raw_file("files/many/" + std::to_string(i) + ".txt", std::string(4096 + i, 'a' + i % 26));
        b.raw_file("files/blocker", "a file where a folder is wanted");
        b.raw_file(broken ? "files/blocker/inside.txt" : "files/elsewhere/inside.txt", "x");
        b.end();
        return b.segments[0];
    };
    try {
        receive_apply(opt_, job_, 1, part(true));
        ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("blocker"), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_file(job_path()), before);  // not acknowledged
    json st = receive_apply(opt_, job_, 1, part(false));
    EXPECT_EQ(st.value("next_index", 0), 2);
    for (int i = 0; i < 200; ++i)
        EXPECT_EQ(read_file(root_.path + "/.sitelift/stage/files/many/" + std::to_string(i) + ".txt"),
                  std::string(4096 + i, 'a' + i % 26)) << i;
    EXPECT_EQ(read_file(root_.path + "/.sitelift/stage/files/elsewhere/inside.txt"), "x");
    receive_forget(target_);
}

TEST_F(ReceivePush, TableChunksOutOfTurnAreRefused) {
    std::vector<Chunk> posts = dump_in_chunks(cfg_, "slt_src_posts", 10, 1 << 20);
    ASSERT_EQ(posts.size(), 3u);
    std::vector<std::string> seg = build();
    struct Case {
        const char* what;
        std::function<void(SegmentBuilder&)> fill;
        ErrorKind kind;
    };
    const std::vector<Case> cases = {
        {"chunk 2 before chunk 1", [&](SegmentBuilder& b) {
             b.table_chunk("slt_src_posts", 0, posts[0]);
             b.table_chunk("slt_src_posts", 2, posts[2]);
         }, ErrorKind::archive},
        {"continuation before the first chunk", [&](SegmentBuilder& b) { b.table_chunk("slt_src_posts", 1, posts[1]); },
         ErrorKind::archive},
        {"first chunk twice", [&](SegmentBuilder& b) {
             b.table_chunk("slt_src_posts", 0, posts[0]);
             b.table_chunk("slt_src_posts", 0, posts[0]);
         }, ErrorKind::archive},
        {"chunk named .0", [&](SegmentBuilder& b) { b.raw_file("database/slt_src_posts.0.sql", posts[0].sql); },
         ErrorKind::security},
        {"a table site.json does not list", [&](SegmentBuilder& b) { b.raw_file("database/slt_src_other.sql", posts[0].sql); },
         ErrorKind::security},
        {"a first chunk sent as continuation", [&](SegmentBuilder& b) {
             b.table_chunk("slt_src_posts", 0, posts[0]);
             b.raw_file("database/slt_src_posts.1.sql", posts[0].sql);
         }, ErrorKind::security},
    };
    for (const Case& k : cases) {
        SCOPED_TRACE(k.what);
        receive_begin(opt_, job_, json::object());
        receive_apply(opt_, job_, 0, seg[0]);
        SegmentBuilder b(site_);
        b.begin();
        k.fill(b);
        b.end();
        try {
            receive_apply(opt_, job_, 1, b.segments[0]);
            ADD_FAILURE() << "accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), k.kind) << e.what();
        }
        EXPECT_EQ(receive_state(root_.path).value("next_index", 0), 1);
        receive_forget(target_);
    }
    expect_untouched();
}

// ---- tokens and signed requests --------------------------------------------------------------------------------

const char* const kRqPrefix = "slt_rq_";
const char* const kJobs = "/index.php?rest_route=/sitelift/v1/jobs";

int64_t now_s() { return static_cast<int64_t>(std::time(nullptr)); }

class ReceiveRequests : public ::testing::Test {
protected:
    void SetUp() override {
        std::string why;
        if (!env_config(cfg_, why)) FAIL() << why;
        isolate(cfg_);
        site_.target.root = root_.path;
        site_.target.db = cfg_;
        site_.target.table_prefix = kRqPrefix;
        site_.url = kDestUrl;
        site_.limits = {{"max_body", 8 << 20}};
        drop();
        Connection c(cfg_);
        c.execute("CREATE TABLE slt_rq_options (option_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, "
                  "option_name VARCHAR(191) NOT NULL, option_value LONGTEXT NOT NULL, autoload VARCHAR(20) NOT NULL "
                  "DEFAULT 'yes', UNIQUE KEY option_name (option_name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        c.execute("INSERT INTO slt_rq_options (option_name, option_value) VALUES ('home', " + c.quote(kDestUrl) + ")");
        created_ = token_create(site_.target, kDestUrl, "Dest Site", 3600);
        token_ = created_.value("token", "");
        ASSERT_FALSE(token_.empty());
        TokenInfo info = parse_token(token_);
        token_id_ = info.token_id;
        secret_b64_ = token_.substr(token_.rfind('.') + 1);
        Keys k = derive_keys(info.secret, info.token_id);
        mac_ = k.mac;
        enc_ = k.enc;
    }
    void TearDown() override {
        try {
            receive_forget(site_.target);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "receive_forget: " << e.what();
        }
        drop();
        drop_isolated(cfg_);
    }
    void drop() {
        try {
            Connection c(cfg_);
            drop_prefixed(c, kRqPrefix);
            drop_tables_of_stage(c);
        } catch (const std::exception& e) {
            ADD_FAILURE() << e.what();
        }
    }
    static void drop_tables_of_stage(Connection& c) { drop_prefixed(c, "sl_stage_"); }

    ReceiveRequest sign(const std::string& method, const std::string& target, const std::string& body,
                        int64_t ts = 0, std::string nonce = "") {
        if (ts == 0) ts = now_s();
        if (nonce.empty()) nonce = random_nonce();
        ReceiveRequest r;
        r.method = method;
        r.target = target;
        r.body = body;
        r.headers["x-sitelift-token"] = token_id_;
        r.headers["x-sitelift-timestamp"] = std::to_string(ts);
        r.headers["x-sitelift-nonce"] = nonce;
        r.headers["x-sitelift-signature"] = sign_request(mac_, method, target, ts, nonce, Sha256::hex(body));
        return r;
    }
    ReceiveRequest handshake(const std::string& job, const std::string& name = "Dest Site") {
        json body = {{"job", job}, {"site_name", name}, {"source", {{"url", kSourceUrl}}}};
        return sign("POST", kJobs, body.dump());
    }
    std::string part_target(const std::string& job, uint64_t i) const {
        return std::string(kJobs) + "/" + job + "/parts/" + std::to_string(i);
    }
    // A first segment with nothing but site.json (a site without tables).
    std::string tiny_segment() const {
        SiteInfo s;
        s.home = kSourceUrl;
        s.siteurl = kSourceUrl;
        s.abspath = "/srv/source";
        s.table_prefix = "wp_";
        SegmentBuilder b(s);
        b.begin();
        b.site_json();
        b.end();
        return b.segments[0];
    }

    DbConfig cfg_;
    TempDir root_;
    ReceiveSite site_;
    json created_;
    std::string token_, token_id_, secret_b64_, mac_, enc_;
    const std::string job_ = "00112233445566778899aabbccddeeff";
};

TEST_F(ReceiveRequests, HandshakeWithTheRightSiteName) {
    ReceiveResponse r = receive_request(site_, handshake(job_, "  dest SITE "));
    EXPECT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body.value("code", ""), "sitelift_ok");
    EXPECT_EQ(r.body.value("next_index", -1), 0);
    EXPECT_EQ(r.body.value("job", ""), job_);
    EXPECT_TRUE(r.body["limits"].contains("free_disk"));
    json st = receive_state(root_.path);
    EXPECT_EQ(st.value("job", ""), job_);
    EXPECT_EQ(st.value("phase", ""), "receiving");
    // The status route answers for it.
    ReceiveResponse s = receive_request(site_, sign("GET", std::string(kJobs) + "/" + job_, ""));
    EXPECT_EQ(s.status, 200) << s.body.dump();
    EXPECT_EQ(s.body.value("next_index", -1), 0);
}

TEST_F(ReceiveRequests, WrongSiteNameStartsNothing) {
    ReceiveResponse r = receive_request(site_, handshake(job_, "Another Site"));
    EXPECT_EQ(r.status, 409) << r.body.dump();
    EXPECT_EQ(r.body.value("code", ""), "sitelift_wrong_site");
    EXPECT_EQ(receive_state(root_.path), json::object());
}

TEST_F(ReceiveRequests, BadlySignedRequestsAre401) {
    auto expect_401 = [&](ReceiveRequest req, const std::string& code, const std::string& what) {
        SCOPED_TRACE(what);
        ReceiveResponse r = receive_request(site_, req);
        EXPECT_EQ(r.status, 401) << r.body.dump();
        EXPECT_EQ(r.body.value("code", ""), code);
        EXPECT_EQ(receive_state(root_.path), json::object());
    };
    {
        ReceiveRequest r = handshake(job_);
        std::string& sig = r.headers["x-sitelift-signature"];
        sig[10] = sig[10] == '0' ? '1' : '0';
        expect_401(r, "sitelift_bad_signature", "flipped signature");
    }
    {
        ReceiveRequest r = handshake(job_);
        r.body += " ";  // body changed after signing
        expect_401(r, "sitelift_bad_signature", "changed body");
    }
    {
        ReceiveRequest r = handshake(job_);
        r.target = std::string(kJobs) + "&x=1";  // target changed after signing
        expect_401(r, "sitelift_bad_signature", "changed target");
    }
    {
        json body = {{"job", job_}, {"site_name", "Dest Site"}};
        expect_401(sign("POST", kJobs, body.dump(), now_s() - 1000), "sitelift_stale", "stale timestamp");
        expect_401(sign("POST", kJobs, body.dump(), now_s() + 1000), "sitelift_stale", "future timestamp");
    }
    {
        ReceiveRequest r = handshake(job_);
        r.headers["x-sitelift-token"] = std::string(32, 'a');
        expect_401(r, "sitelift_bad_token", "wrong token id");
    }
    for (const char* h : {"x-sitelift-token", "x-sitelift-timestamp", "x-sitelift-nonce", "x-sitelift-signature"}) {
        ReceiveRequest r = handshake(job_);
        r.headers.erase(h);
        expect_401(r, "sitelift_unsigned", std::string("missing ") + h);
    }
    // A correct one still goes through.
    EXPECT_EQ(receive_request(site_, handshake(job_)).status, 200);
}

TEST_F(ReceiveRequests, NonceIsAcceptedOnce) {
    ReceiveRequest r = handshake(job_);
    EXPECT_EQ(receive_request(site_, r).status, 200);
    ReceiveResponse again = receive_request(site_, r);
    EXPECT_EQ(again.status, 401) << again.body.dump();
    EXPECT_EQ(again.body.value("code", ""), "sitelift_replayed");
}

TEST_F(ReceiveRequests, AuthenticateDoesNotConsumeTheNonce) {
    ReceiveRequest r = handshake(job_);
    std::optional<ReceiveResponse> a = receive_authenticate(site_, r);
    EXPECT_FALSE(a.has_value()) << (a ? a->body.dump() : "");
    EXPECT_EQ(receive_state(root_.path), json::object());  // authenticating does nothing
    EXPECT_FALSE(receive_authenticate(site_, r).has_value());
    ReceiveResponse resp = receive_request(site_, r);
    EXPECT_EQ(resp.status, 200) << resp.body.dump();
    // Once used, authenticate refuses it as well.
    std::optional<ReceiveResponse> b = receive_authenticate(site_, r);
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->status, 401);
    EXPECT_EQ(b->body.value("code", ""), "sitelift_replayed");
    // And a bad signature is refused by authenticate.
    ReceiveRequest bad = handshake(job_);
    bad.headers["x-sitelift-signature"] = std::string(64, '0');
    std::optional<ReceiveResponse> c = receive_authenticate(site_, bad);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->status, 401);
}

TEST_F(ReceiveRequests, RevokedTokenIs403) {
    token_revoke(site_.target);
    ReceiveResponse r = receive_request(site_, handshake(job_));
    EXPECT_EQ(r.status, 403) << r.body.dump();
    EXPECT_EQ(r.body.value("code", ""), "sitelift_token_revoked");
    EXPECT_EQ(receive_state(root_.path), json::object());
    EXPECT_TRUE(token_info(site_.target).value("revoked", false));
}

TEST_F(ReceiveRequests, TamperedPartIsRefusedAndNothingChanges) {
    ASSERT_EQ(receive_request(site_, handshake(job_)).status, 200);
    const json before = receive_state(root_.path);
    const std::string plain = tiny_segment();
    std::string sealed = seal_part(enc_, job_, 0, false, plain);
    for (size_t pos : {size_t(5), kPartHeaderSize + 3, sealed.size() - 1}) {
        SCOPED_TRACE("byte " + std::to_string(pos));
        std::string bad = sealed;
        bad[pos] = static_cast<char>(bad[pos] ^ 0x01);
        ReceiveResponse r = receive_request(site_, sign("PUT", part_target(job_, 0), bad));
        EXPECT_EQ(r.status, 400) << r.body.dump();
        EXPECT_EQ(r.body.value("code", ""), "sitelift_part_unauthenticated");
        EXPECT_EQ(receive_state(root_.path), before);
    }
    // Sealed for another job, or under another number.
    ReceiveResponse other = receive_request(site_, sign("PUT", part_target(job_, 0),
                                                        seal_part(enc_, "ffffffffffffffffffffffffffffffff", 0, false, plain)));
    EXPECT_EQ(other.status, 400);
    ReceiveResponse renumbered = receive_request(site_, sign("PUT", part_target(job_, 0), seal_part(enc_, job_, 1, false, plain)));
    EXPECT_EQ(renumbered.status, 400);
    EXPECT_EQ(receive_state(root_.path), before);
    // The untouched part goes in.
    ReceiveResponse ok = receive_request(site_, sign("PUT", part_target(job_, 0), sealed));
    EXPECT_EQ(ok.status, 200) << ok.body.dump();
    EXPECT_EQ(ok.body.value("next_index", -1), 1);
    // Again (a lost acknowledgement): same answer, nothing applied twice.
    ReceiveResponse again = receive_request(site_, sign("PUT", part_target(job_, 0), sealed));
    EXPECT_EQ(again.status, 200) << again.body.dump();
    EXPECT_EQ(again.body.value("next_index", -1), 1);
    // Ahead of its turn.
    ReceiveResponse ahead = receive_request(site_, sign("PUT", part_target(job_, 2), seal_part(enc_, job_, 2, false, plain)));
    EXPECT_EQ(ahead.status, 409) << ahead.body.dump();
    EXPECT_EQ(receive_state(root_.path).value("next_index", 0), 1);
}

TEST_F(ReceiveRequests, ManyFailuresThrottleEvenCorrectRequests) {
    for (int i = 0; i < 20; ++i) {
        ReceiveRequest r = handshake(job_);
        r.headers["x-sitelift-signature"] = std::string(64, 'f');
        ReceiveResponse resp = receive_request(site_, r);
        ASSERT_EQ(resp.status, 401) << "attempt " << i << ": " << resp.body.dump();
    }
    ReceiveResponse r = receive_request(site_, handshake(job_));
    EXPECT_EQ(r.status, 429) << r.body.dump();
    EXPECT_EQ(r.body.value("code", ""), "sitelift_throttled");
    EXPECT_EQ(receive_state(root_.path), json::object());
    std::optional<ReceiveResponse> a = receive_authenticate(site_, handshake(job_));
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->status, 429);
}

TEST_F(ReceiveRequests, SecondJobWhileOneIsActiveIsBusy) {
    ASSERT_EQ(receive_request(site_, handshake(job_)).status, 200);
    ReceiveResponse r = receive_request(site_, handshake("ffeeddccbbaa99887766554433221100"));
    EXPECT_EQ(r.status, 409) << r.body.dump();
    EXPECT_EQ(r.body.value("code", ""), "sitelift_busy");
    EXPECT_EQ(receive_state(root_.path).value("job", ""), job_);
    // The same job may shake hands again (a source that restarted) and keeps its place.
    ReceiveResponse same = receive_request(site_, handshake(job_));
    EXPECT_EQ(same.status, 200) << same.body.dump();
    EXPECT_EQ(same.body.value("next_index", -1), 0);
}

TEST_F(ReceiveRequests, TokenInfoHoldsNoSecret) {
    ASSERT_EQ(receive_request(site_, handshake(job_)).status, 200);
    json info = token_info(site_.target);
    ASSERT_FALSE(info.empty());
    EXPECT_EQ(info.value("fingerprint", ""), created_.value("fingerprint", "?"));
    EXPECT_EQ(info.value("site_name", ""), "Dest Site");
    EXPECT_EQ(info.value("url", ""), kDestUrl);
    EXPECT_FALSE(info.value("revoked", true));
    EXPECT_FALSE(info.value("expired", true));
    EXPECT_EQ(info["job"].value("id", ""), job_);
    EXPECT_FALSE(info.contains("token"));
    EXPECT_FALSE(info.contains("mac"));
    EXPECT_FALSE(info.contains("enc"));
    const std::string mac_hex = hex_encode(mac_), enc_hex = hex_encode(enc_);
    each_string(info, [&](const std::string& s) {
        EXPECT_NE(s, secret_b64_);
        EXPECT_EQ(s.find(secret_b64_), std::string::npos);
        EXPECT_EQ(s.find(token_), std::string::npos);
        EXPECT_FALSE(is_hex64(s)) << s;
        EXPECT_EQ(s.find(mac_hex), std::string::npos);
        EXPECT_EQ(s.find(enc_hex), std::string::npos);
    });
    // The stored record never holds the token string or its secret either.
    Connection c(cfg_);
    std::string stored = c.scalar("SELECT option_value FROM slt_rq_options WHERE option_name = 'sitelift_token'").value_or("");
    ASSERT_FALSE(stored.empty());
    EXPECT_EQ(stored.find(secret_b64_), std::string::npos);
    // Deleted, it is gone.
    token_delete(site_.target);
    EXPECT_EQ(token_info(site_.target), json::object());
    EXPECT_EQ(receive_request(site_, handshake(job_)).status, 401);
}

// The whole protocol through the signed routes, onto the ReceivePush scratch site.
TEST_F(ReceivePush, ThroughTheSignedRoutes) {
    std::vector<std::string> seg = build();
    json created = token_create(target_, kDestUrl, "Dest Site", 600);
    TokenInfo info = parse_token(created.value("token", ""));
    Keys keys = derive_keys(info.secret, info.token_id);
    ReceiveSite site{target_, kDestUrl, json::object(), {}};
    // Bodies rotate through the forms the binding passes: read into the engine's buffer (decrypted in place),
    // the same with its hash taken while it was read, and a view of a PHP string (decrypted into a buffer of
    // its own).
    std::vector<std::unique_ptr<std::string>> php_strings;  // outlive the requests that view them
    size_t requests = 0;
    auto sign = [&](const std::string& method, const std::string& target, const std::string& body) {
        ReceiveRequest r;
        r.method = method;
        r.target = target;
        switch (requests++ % 3) {
            case 0: r.body = body; break;
            case 1: r.body_view = *php_strings.emplace_back(std::make_unique<std::string>(body)); break;
            default:
                r.body = body;
                r.body_sha256 = Sha256::hex(body);
        }
        const int64_t ts = now_s();
        const std::string nonce = random_nonce();
        r.headers = {{"x-sitelift-token", info.token_id},
                     {"x-sitelift-timestamp", std::to_string(ts)},
                     {"x-sitelift-nonce", nonce},
                     {"x-sitelift-signature", sign_request(keys.mac, method, target, ts, nonce, Sha256::hex(body))}};
        return r;
    };
    json hs = {{"job", job_}, {"site_name", "Dest Site"}, {"source", {{"url", kSourceUrl}}}};
    ReceiveResponse r = receive_request(site, sign("POST", kJobs, hs.dump()));
    ASSERT_EQ(r.status, 200) << r.body.dump();
    {
        // A hash taken while reading is what the signature is checked against: one that is not the signed
        // body's is refused like a changed body.
        ReceiveRequest bad = sign("PUT", std::string(kJobs) + "/" + job_ + "/parts/0",
                                  seal_part(keys.enc, job_, 0, seg.size() == 1, seg[0]));
        bad.body_sha256 = Sha256::hex("another body");
        r = receive_request(site, std::move(bad));
        EXPECT_EQ(r.status, 401) << r.body.dump();
        EXPECT_EQ(r.body.value("code", ""), "sitelift_bad_signature");
    }
    for (size_t i = 0; i < seg.size(); ++i) {
        const std::string target = std::string(kJobs) + "/" + job_ + "/parts/" + std::to_string(i);
        r = receive_request(site, sign("PUT", target, seal_part(keys.enc, job_, i, i + 1 == seg.size(), seg[i])));
        ASSERT_EQ(r.status, 200) << "part " << i << ": " << r.body.dump();
        EXPECT_EQ(r.body.value("next_index", uint64_t(0)), i + 1);
    }
    r = receive_request(site, sign("POST", std::string(kJobs) + "/" + job_ + "/finalize", ""));
    ASSERT_EQ(r.status, 200) << r.body.dump();
    EXPECT_EQ(r.body.value("phase", ""), "done");
    expect_swapped();
    // The token lives in the options the swap replaced, and survived it.
    EXPECT_EQ(token_info(target_).value("fingerprint", ""), created.value("fingerprint", "?"));
}

}  // namespace
