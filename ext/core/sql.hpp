// SQL table files: the dumper that writes them and the strict parser that loads them back.
//
// A table file is plain SQL that the stock `mariadb` client loads as is:
//   -- header comment
//   SET NAMES utf8mb4; SET sql_mode='NO_AUTO_VALUE_ON_ZERO'; SET foreign_key_checks=0; ... ;
//   DROP TABLE IF EXISTS `t`;
//   CREATE TABLE `t` (...) ENGINE=...;
//   INSERT INTO `t` (`c1`,`c2`) VALUES (...),(...);   -- each statement below the packet budget
// The importer accepts exactly this grammar and nothing else, so a table file can only ever create and fill
// its own table.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "db.hpp"

namespace sitelift {

// ---- literals -------------------------------------------------------------------------------------------
// Appends raw as a single-quoted MySQL string literal ('\0', '\'', '\\', '\n', '\r', '\x1a' escaped).
void append_sql_string(std::string& out, std::string_view raw);
// Appends raw as 0x<hex>, or '' when empty.
void append_sql_hex(std::string& out, std::string_view raw);
// Decodes a quoted string literal (including its quotes) with every MySQL escape and '' doubling.
// Returns false if it is not a well-formed literal.
bool decode_sql_string(std::string_view literal, std::string& out);

// ---- dumping ---------------------------------------------------------------------------------------------
// What the dump connection must be set to before anything below is called (begin_consistent_snapshot() does
// all of it): SET NAMES utf8mb4; time_zone '+00:00' (TIMESTAMP values are written in UTC); sql_mode '' (so
// SHOW CREATE output uses backquotes and CHAR values are not padded); sql_quote_show_create=1; and one
// REPEATABLE READ transaction started WITH CONSISTENT SNAPSHOT, held for the whole dump so every table comes
// from the same instant (InnoDB only: MyISAM/Aria tables are read as they are at the time).
void begin_consistent_snapshot(Connection& conn);

struct DumpOptions {
    size_t max_statement_bytes = 1 << 20;  // INSERTs are split to stay below this (one big row may exceed it)
    // Removes "CONSTRAINT ... FOREIGN KEY ... REFERENCES ..." clauses from the CREATE TABLE and reports them in
    // TableDumpResult::foreign_keys instead. TableFileParser refuses foreign keys, so a table that has one only
    // loads back through SiteLift when this is on.
    bool strip_foreign_keys = false;

    // Chunks (the push stream sends a big table in several files). A continuation file has the SET header but
    // no DROP/CREATE. With max_rows, at most that many rows are written: in primary key order after
    // after_key (the SQL literals TableDumpResult::last_key gave for the previous chunk; empty: from the
    // start), or, for a table without a primary key, after skipping `offset` rows in the server's scan order.
    bool continuation = false;
    uint64_t max_rows = 0;  // 0: all rows
    std::vector<std::string> after_key;
    uint64_t offset = 0;
};

struct TableDumpResult {
    uint64_t rows = 0;
    uint64_t bytes = 0;          // bytes handed to the sink
    std::string checksum;        // SHA-256 over every row tuple, as written: "(v1,v2,...)\n" per row
    std::vector<std::string> foreign_keys;  // clauses removed by strip_foreign_keys, as SHOW CREATE TABLE had them
    bool has_primary_key = false;
    std::vector<std::string> last_key;  // primary key of the last row written, as SQL literals (empty: no row)
};

// Writes the complete table file for `table` to sink, in pieces. Reads rows with mysql_use_result, so memory
// stays bounded. Generated columns are skipped and the column list is always named. Binary strings are hex.
// Rows come in primary key order when the table has one. FLOAT columns are read as DOUBLE so that their
// values survive the trip through text exactly. The bytes depend only on the table's definition, its rows and
// the server version (no timestamps), so two dumps inside one snapshot are identical.
// The connection must already be inside the dump's transaction (see begin_consistent_snapshot()).
TableDumpResult dump_table(Connection& conn, const std::string& table,
                           const std::function<void(std::string_view)>& sink, const DumpOptions& options);

// Base tables (views, sequences and system views excluded) of the connection's current database, sorted;
// only those whose name starts with prefix unless all_tables. The prefix is compared as bytes (ASCII
// case-insensitively when the server has lower_case_table_names set), never as a LIKE pattern.
std::vector<std::string> list_tables(Connection& conn, std::string_view prefix, bool all_tables);
// Views of the current database, same rules.
std::vector<std::string> list_views(Connection& conn, std::string_view prefix, bool all_tables);

// SQL text, for the stock client, that recreates view `name`: "SET NAMES utf8mb4;" then
// "CREATE OR REPLACE [ALGORITHM=..] [SQL SECURITY ..] VIEW `name` AS ...;". The DEFINER clause is removed (the
// importing user becomes the definer) and qualifiers naming the source database are stripped.
std::string dump_view(Connection& conn, const std::string& name);
// SQL text that recreates the triggers of `table` (empty when it has none): for each trigger
// "DROP TRIGGER IF EXISTS", its sql_mode, and the CREATE TRIGGER between "DELIMITER ;;" lines (a delimiter
// that does not occur in the body is chosen) so the stock client loads BEGIN...END bodies. DEFINER clauses
// and source database qualifiers are removed as for views.
std::string dump_triggers(Connection& conn, const std::string& table);

// ---- loading ---------------------------------------------------------------------------------------------
// Called for every string value (decoded) of every row as it streams through; may change it.
// Returns true when it changed the value. Hex (binary) values are not offered.
class ValueTransform {
public:
    virtual ~ValueTransform() = default;
    // A quoted string literal's value (text columns). Returns true when it changed value.
    virtual bool transform(std::string_view column, std::string& value) = 0;
    // A binary string's bytes (0x..., X'...', _binary '...': BLOB, BINARY and VARBINARY columns). Left alone
    // unless a transform opts in.
    virtual bool transform_binary(std::string_view column, std::string& value) {
        (void)column;
        (void)value;
        return false;
    }
};

enum class StatementKind { create_table, insert };

struct ParsedStatement {
    StatementKind kind;
    std::string sql;     // re-emitted SQL, naming the target table, ready to execute
    uint64_t rows = 0;   // for inserts
    std::string table;   // the target table (for error messages)
};

// Streaming parser for one table file. Feed it the file in arbitrary pieces; each complete, validated statement
// comes out through on_statement (DROP TABLE and SET statements are validated and swallowed), renamed to
// target_table; an INSERT of more than 256 KiB comes out as several, cut at row boundaries. Anything outside the grammar (another table's name, a statement kind not listed above, a
// versioned comment, a foreign key, a table option outside the whitelist, a malformed literal) throws
// Error(security) naming the line; the parser accepts no more input after any error. The grammar is spelled
// out at the top of sql_parse.cpp. Value transforms see every quoted string literal through transform(), and
// every hex and _binary string through transform_binary() (not bit or numeric literals); changed values are
// written again in their literal's kind (append_sql_string; append_sql_hex; "_binary " and a string).
class TableFileParser {
public:
    TableFileParser(std::string source_table, std::string target_table,
                    std::function<void(ParsedStatement&&)> on_statement, ValueTransform* transform = nullptr,
                    size_t max_statement_bytes = 256u << 20);
    ~TableFileParser();
    // Declares the file a continuation chunk (see DumpOptions::continuation): INSERTs only, no DROP or CREATE,
    // the table already exists. Call before the first feed().
    void set_continuation();
    void feed(const char* data, size_t len);
    void finish();  // throws if the file ends inside a statement or without CREATE TABLE

    uint64_t rows() const;
    const std::string& checksum() const;  // same definition as TableDumpResult::checksum; valid after finish()
    uint64_t values_changed() const;      // values the transform changed

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The session a loading connection needs: utf8mb4, time_zone '+00:00', sql_mode NO_AUTO_VALUE_ON_ZERO, no FK
// or unique checks, no statement time limit.
void set_up_load_session(Connection& c);

// DROP TABLE IF EXISTS `table`.
void drop_table_if_exists(Connection& conn, std::string_view table);

// Executes statements on `threads` connections of their own: INSERTs are queued and spread over the
// connections, each in transactions of a few MB. A CREATE TABLE and the table's first INSERT run together on
// one connection, the INSERT committed alone; the table's later INSERTs wait for that, other tables' do not,
// so one table's last statements overlap the next table's first.
// Sessions use utf8mb4, time_zone '+00:00', sql_mode NO_AUTO_VALUE_ON_ZERO, no FK or unique checks (and no
// binary log when the user may turn it off). The first failure stops all work and is rethrown, naming the
// table, from that and every later submit() and wait(). Destroying the loader without wait() abandons work
// not yet committed. submit() and wait() are meant to be called from one thread (the one feeding the parser);
// submit() blocks while 4 MiB of statements are queued.
class ParallelLoader {
public:
    ParallelLoader(const DbConfig& cfg, unsigned threads);
    ~ParallelLoader();
    void submit(ParsedStatement&& st);
    void wait();  // all submitted work committed; rethrows the first failure
private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Loads the table chunks of one pushed part (docs/push-design.md) on `threads` connections of their own, each
// chunk in one transaction together with its ledger row, so a replayed part never applies a chunk twice. A
// chunk goes to one worker as a whole: begin_chunk() picks the worker (the one with the least SQL queued, in
// turn when equal), submit() queues an INSERT of that chunk, end_chunk(sql) queues `sql` (the ledger row)
// followed by COMMIT. A worker starts the transaction at a chunk's first statement. CREATE TABLE is refused:
// the caller runs it on its own connection, so no worker inserts into a table that does not exist yet. Each
// worker's queue holds at most queue_limit bytes (submit() blocks; a larger statement still enters an empty
// queue). Sessions are set up as for ParallelLoader. The first failure stops all work and is rethrown, naming
// the table, from that and every later call; chunks already committed stay committed. Destroying the loader
// without wait() rolls back every chunk not yet committed. Meant to be driven from one thread.
//
// Empty tables: with unique and foreign key checks off, MariaDB (10.6+) locks a whole empty InnoDB table for
// the transaction that inserts into it first, and two transactions starting to fill one empty table at the
// same moment deadlock. So every chunk of a table begun as empty_table stays on the worker of its first chunk,
// and a table that chunks on different workers insert into (the ledger) must never be empty: give it a row no
// chunk uses.
class ChunkLoader {
public:
    ChunkLoader(const DbConfig& cfg, unsigned threads, size_t queue_limit = 4u << 20);
    ~ChunkLoader();
    // table: the table the chunk fills (named in errors); empty_table: it holds no rows yet (the caller has
    // just created it), so this chunk and every later one of that table go to one worker.
    void begin_chunk(const std::string& table, bool empty_table = false);
    void submit(ParsedStatement&& st);
    void end_chunk(std::string ledger_sql);
    void wait();  // every chunk ended so far committed; rethrows the first failure
private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sitelift
