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
struct DumpOptions {
    size_t max_statement_bytes = 1 << 20;  // INSERTs are split to stay below this (one big row may exceed it)
};

struct TableDumpResult {
    uint64_t rows = 0;
    uint64_t bytes = 0;          // bytes handed to the sink
    std::string checksum;        // SHA-256 over every row tuple, as written: "(v1,v2,...)\n" per row
};

// Writes the complete table file for `table` to sink, in pieces. Reads rows with mysql_use_result, so memory
// stays bounded. Generated columns are skipped and the column list is always named. Binary strings are hex.
// The connection must already be inside the dump's transaction.
TableDumpResult dump_table(Connection& conn, const std::string& table,
                           const std::function<void(std::string_view)>& sink, const DumpOptions& options);

// ---- loading ---------------------------------------------------------------------------------------------
// Called for every string value (decoded) of every row as it streams through; may change it.
// Returns true when it changed the value. Hex (binary) values are not offered.
class ValueTransform {
public:
    virtual ~ValueTransform() = default;
    virtual bool transform(std::string_view column, std::string& value) = 0;
};

enum class StatementKind { create_table, insert };

struct ParsedStatement {
    StatementKind kind;
    std::string sql;     // re-emitted SQL, naming the target table, ready to execute
    uint64_t rows = 0;   // for inserts
};

// Streaming parser for one table file. Feed it the file in arbitrary pieces; each complete, validated statement
// comes out through on_statement, renamed to target_table. Anything outside the grammar (another table's name,
// a statement kind not listed above, a versioned comment, a foreign key, a table option outside the
// whitelist, a malformed literal) throws Error(security) naming the line.
class TableFileParser {
public:
    TableFileParser(std::string source_table, std::string target_table,
                    std::function<void(ParsedStatement&&)> on_statement, ValueTransform* transform = nullptr,
                    size_t max_statement_bytes = 256u << 20);
    ~TableFileParser();
    void feed(const char* data, size_t len);
    void finish();  // throws if the file ends inside a statement or without CREATE TABLE

    uint64_t rows() const;
    const std::string& checksum() const;  // same definition as TableDumpResult::checksum; valid after finish()
    uint64_t values_changed() const;      // values the transform changed

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Executes statements on `threads` connections of their own: CREATE TABLE runs at once (and waits for
// earlier work), INSERTs are queued and spread over the connections, each in transactions of a few MB.
// Sessions use utf8mb4, time_zone '+00:00', sql_mode NO_AUTO_VALUE_ON_ZERO, no FK or unique checks.
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

}  // namespace sitelift
