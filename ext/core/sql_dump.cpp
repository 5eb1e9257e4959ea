// Table files: the dumper (plus the listing, view and trigger helpers the exporter needs).
#include <mysql.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "error.hpp"
#include "sha256.hpp"
#include "sql.hpp"
#include "version.hpp"

namespace sitelift {

namespace {

[[noreturn]] void throw_mysql(MYSQL* m, const std::string& what) {
    throw Error(ErrorKind::database, what + " failed: " + mysql_error(m) + " (error " + std::to_string(mysql_errno(m)) + ")");
}

std::string upper_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

bool has_word(const std::string& upper_text, std::string_view word) {
    size_t pos = 0;
    auto is_word = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; };
    while ((pos = upper_text.find(word, pos)) != std::string::npos) {
        bool left = pos == 0 || !is_word(upper_text[pos - 1]);
        size_t end = pos + word.size();
        bool right = end >= upper_text.size() || !is_word(upper_text[end]);
        if (left && right) return true;
        pos = end;
    }
    return false;
}

// Server text for a comment line: printable ASCII only.
std::string comment_safe(std::string_view s) {
    std::string out;
    for (char c : s) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

struct Column {
    std::string name;
    bool is_float = false;
    // Its values sort otherwise than they compare as literals (ENUM/SET by member position, FLOAT through the
    // DOUBLE it is read as): no resuming "after" a value of such a key column.
    bool unordered_literal = false;
};

enum class ValueKind : unsigned char { number, string, hex };

ValueKind classify(const MYSQL_FIELD& f) {
    switch (f.type) {
        case MYSQL_TYPE_TINY:
        case MYSQL_TYPE_SHORT:
        case MYSQL_TYPE_LONG:
        case MYSQL_TYPE_INT24:
        case MYSQL_TYPE_LONGLONG:
        case MYSQL_TYPE_DECIMAL:
        case MYSQL_TYPE_NEWDECIMAL:
        case MYSQL_TYPE_FLOAT:
        case MYSQL_TYPE_DOUBLE:
        case MYSQL_TYPE_YEAR:
            return ValueKind::number;
        case MYSQL_TYPE_BIT:
        case MYSQL_TYPE_GEOMETRY:
            return ValueKind::hex;
        case MYSQL_TYPE_STRING:
        case MYSQL_TYPE_VAR_STRING:
        case MYSQL_TYPE_VARCHAR:
        case MYSQL_TYPE_TINY_BLOB:
        case MYSQL_TYPE_MEDIUM_BLOB:
        case MYSQL_TYPE_LONG_BLOB:
        case MYSQL_TYPE_BLOB:
            return f.charsetnr == 63 ? ValueKind::hex : ValueKind::string;
        default:  // dates and times, JSON, ENUM/SET, NULL type...
            return ValueKind::string;
    }
}

// Reads a backquoted identifier at text[pos] (which is '`'); returns the position after it or npos.
size_t skip_backquoted(std::string_view text, size_t pos) {
    for (size_t i = pos + 1; i < text.size(); ++i) {
        if (text[i] == '`') {
            if (i + 1 < text.size() && text[i + 1] == '`') {
                ++i;
                continue;
            }
            return i + 1;
        }
    }
    return std::string_view::npos;
}

// Splits the CREATE TABLE text into its definition lines and drops the foreign key constraints. SHOW CREATE
// TABLE writes one definition per line, "  " indented, separated by ",\n", ended by "\n) options".
std::string strip_foreign_keys(const std::string& create, std::vector<std::string>& removed) {
    size_t first_nl = create.find('\n');
    size_t close = create.rfind("\n)");
    if (first_nl == std::string::npos || close == std::string::npos || close <= first_nl) return create;
    std::vector<std::string> kept;
    bool changed = false;
    size_t pos = first_nl + 1;
    while (pos <= close) {
        size_t nl = create.find('\n', pos);
        if (nl == std::string::npos || nl > close) nl = close;
        std::string line = create.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == ',') line.pop_back();
        bool fk = false;
        if (line.compare(0, 14, "  CONSTRAINT `") == 0) {
            size_t after = skip_backquoted(line, 13);
            if (after != std::string::npos && line.compare(after, 13, " FOREIGN KEY ") == 0) fk = true;
        } else if (line.compare(0, 14, "  FOREIGN KEY ") == 0) {
            fk = true;
        }
        if (fk) {
            removed.push_back(line.substr(2));
            changed = true;
        } else {
            kept.push_back(std::move(line));
        }
        if (nl == close) break;
    }
    if (!changed) return create;
    std::string out = create.substr(0, first_nl + 1);
    for (size_t i = 0; i < kept.size(); ++i) {
        out += kept[i];
        if (i + 1 < kept.size()) out += ',';
        out += '\n';
    }
    out += create.substr(close + 1);
    return out;
}

std::vector<std::string> list_objects(Connection& conn, std::string_view prefix, bool all, std::string_view type) {
    bool fold = false;
    if (!all) {
        auto lctn = conn.scalar("SELECT @@lower_case_table_names");
        fold = lctn && *lctn != "0";
    }
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    std::vector<std::string> out;
    for (auto& row : conn.query("SHOW FULL TABLES")) {
        if (row.size() < 2 || !row[0] || !row[1] || *row[1] != type) continue;
        const std::string& name = *row[0];
        if (!all) {
            if (name.size() < prefix.size()) continue;
            bool match = true;
            for (size_t i = 0; i < prefix.size() && match; ++i)
                match = fold ? lower(name[i]) == lower(prefix[i]) : name[i] == prefix[i];
            if (!match) continue;
        }
        out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
}

bool is_ident_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
           c >= 0x80;
}

// Removes qualifiers naming database `db` from SQL text: `db`.`t`.`c` -> `t`.`c`; `db`.`t` -> `t` unless a
// table or view called like the database exists (then `db`.`x` could be table.column and is kept). Quoted
// strings and comments are left alone.
std::string strip_db_qualifiers(std::string_view sql, const std::string& db, bool db_is_also_a_table) {
    struct Tok {
        size_t begin, end;
        std::string value;  // unquoted identifier
    };
    auto read_ident = [&](size_t pos, Tok& t) -> bool {
        if (pos >= sql.size()) return false;
        if (sql[pos] == '`') {
            size_t e = skip_backquoted(sql, pos);
            if (e == std::string_view::npos) return false;
            t.begin = pos;
            t.end = e;
            t.value.clear();
            for (size_t i = pos + 1; i + 1 < e; ++i) {
                t.value += sql[i];
                if (sql[i] == '`') ++i;
            }
            return true;
        }
        if (!is_ident_char(static_cast<unsigned char>(sql[pos]))) return false;
        size_t e = pos;
        while (e < sql.size() && is_ident_char(static_cast<unsigned char>(sql[e]))) ++e;
        t.begin = pos;
        t.end = e;
        t.value.assign(sql.substr(pos, e - pos));
        return true;
    };

    std::string out;
    out.reserve(sql.size());
    size_t i = 0;
    char prev_significant = 0;
    while (i < sql.size()) {
        char c = sql[i];
        if (c == '\'' || c == '"') {
            size_t j = i + 1;
            while (j < sql.size()) {
                if (sql[j] == '\\') {
                    j += 2;
                    continue;
                }
                if (sql[j] == c) {
                    if (j + 1 < sql.size() && sql[j + 1] == c) {
                        j += 2;
                        continue;
                    }
                    break;
                }
                ++j;
            }
            j = std::min(j + 1, sql.size());
            out.append(sql.substr(i, j - i));
            i = j;
            prev_significant = c;
            continue;
        }
        if (c == '#' || (c == '-' && i + 2 < sql.size() && sql[i + 1] == '-' &&
                         static_cast<unsigned char>(sql[i + 2]) <= ' ')) {
            size_t j = sql.find('\n', i);
            j = j == std::string_view::npos ? sql.size() : j;
            out.append(sql.substr(i, j - i));
            i = j;
            continue;
        }
        if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
            size_t j = sql.find("*/", i + 2);
            j = j == std::string_view::npos ? sql.size() : j + 2;
            out.append(sql.substr(i, j - i));
            i = j;
            continue;
        }
        Tok t;
        if ((c == '`' || (is_ident_char(static_cast<unsigned char>(c)) && !(c >= '0' && c <= '9'))) &&
            read_ident(i, t)) {
            if (t.value == db && prev_significant != '.' && t.end < sql.size() && sql[t.end] == '.') {
                // Count the chain that follows: db . x [. y]
                Tok second, third;
                bool has_second = read_ident(t.end + 1, second);
                bool has_third = has_second && second.end < sql.size() && sql[second.end] == '.' &&
                                 read_ident(second.end + 1, third);
                if (has_second && (has_third || !db_is_also_a_table)) {
                    i = t.end + 1;  // drop "db."
                    prev_significant = '.';
                    continue;
                }
            }
            out.append(sql.substr(t.begin, t.end - t.begin));
            i = t.end;
            prev_significant = 'a';
            continue;
        }
        out += c;
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') prev_significant = c;
        ++i;
    }
    return out;
}

size_t skip_spaces(std::string_view s, size_t pos) {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r')) ++pos;
    return pos;
}

bool iequal_at(std::string_view s, size_t pos, std::string_view word) {
    if (s.size() - std::min(pos, s.size()) < word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
        char a = s[pos + i];
        if (a >= 'a' && a <= 'z') a = static_cast<char>(a - 'a' + 'A');
        if (a != word[i]) return false;
    }
    return true;
}

// Skips one account name part: `x`, 'x', "x" or a bare token.
size_t skip_account_part(std::string_view s, size_t pos) {
    if (pos >= s.size()) return pos;
    char q = s[pos];
    if (q == '`' || q == '\'' || q == '"') {
        for (size_t i = pos + 1; i < s.size(); ++i) {
            if (q != '`' && s[i] == '\\') {
                ++i;
                continue;
            }
            if (s[i] == q) {
                if (i + 1 < s.size() && s[i + 1] == q) {
                    ++i;
                    continue;
                }
                return i + 1;
            }
        }
        return s.size();
    }
    size_t i = pos;
    while (i < s.size() && (is_ident_char(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == '-' || s[i] == '%'))
        ++i;
    return i;
}

// "CREATE [OR REPLACE] [ALGORITHM=..] DEFINER=user@host [SQL SECURITY ..] VIEW|TRIGGER ..." without the DEFINER
// clause, and with "CREATE" turned into "CREATE OR REPLACE" when or_replace.
std::string strip_definer(std::string_view sql, bool or_replace) {
    size_t pos = skip_spaces(sql, 0);
    if (!iequal_at(sql, pos, "CREATE")) throw Error(ErrorKind::database, "unexpected CREATE statement from the server");
    pos += 6;
    std::string out = or_replace ? "CREATE OR REPLACE" : "CREATE";
    // Walk the words before VIEW/TRIGGER, dropping "DEFINER = account".
    for (;;) {
        size_t w = skip_spaces(sql, pos);
        if (w >= sql.size()) break;
        if (iequal_at(sql, w, "DEFINER")) {
            size_t p = skip_spaces(sql, w + 7);
            if (p < sql.size() && sql[p] == '=') {
                p = skip_spaces(sql, p + 1);
                if (iequal_at(sql, p, "CURRENT_USER")) {
                    p += 12;
                    size_t q = skip_spaces(sql, p);
                    if (q + 1 < sql.size() && sql[q] == '(' ) {
                        q = skip_spaces(sql, q + 1);
                        if (q < sql.size() && sql[q] == ')') p = q + 1;
                    }
                } else {
                    p = skip_account_part(sql, p);
                    if (p < sql.size() && sql[p] == '@') p = skip_account_part(sql, p + 1);
                }
                pos = p;
                continue;
            }
        }
        if (iequal_at(sql, w, "OR") && or_replace) {  // already "OR REPLACE": keep ours only
            size_t p = skip_spaces(sql, w + 2);
            if (iequal_at(sql, p, "REPLACE")) {
                pos = p + 7;
                continue;
            }
        }
        if (iequal_at(sql, w, "VIEW") || iequal_at(sql, w, "TRIGGER")) {
            out += ' ';
            out.append(sql.substr(w));
            return out;
        }
        // Any other word (ALGORITHM=MERGE, SQL SECURITY DEFINER): copy it.
        size_t e = w;
        while (e < sql.size() && sql[e] != ' ' && sql[e] != '\t' && sql[e] != '\n' && sql[e] != '\r') ++e;
        out += ' ';
        out.append(sql.substr(w, e - w));
        pos = e;
    }
    throw Error(ErrorKind::database, "unexpected CREATE statement from the server");
}

std::string current_database(Connection& conn) {
    auto db = conn.scalar("SELECT DATABASE()");
    if (!db) throw Error(ErrorKind::usage, "no database selected on the dump connection");
    return *db;
}

}  // namespace

void begin_consistent_snapshot(Connection& conn) {
    conn.execute("SET NAMES utf8mb4");
    conn.execute("SET SESSION time_zone='+00:00'");
    conn.execute("SET SESSION sql_mode=''");
    conn.execute("SET SESSION sql_quote_show_create=1");
    // Long reads with mysql_use_result must not be cut off while the consumer is busy; none of these exist on
    // every server, so failures are ignored.
    for (const char* s : {"SET SESSION net_write_timeout=3600", "SET SESSION net_read_timeout=3600",
                          "SET SESSION max_statement_time=0", "SET SESSION max_execution_time=0"}) {
        try {
            conn.execute(s);
        } catch (const Error&) {
        }
    }
    conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ");
    conn.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY");
}

TableDumpResult dump_table(Connection& conn, const std::string& table,
                           const std::function<void(std::string_view)>& sink, const DumpOptions& options) {
    TableDumpResult result;
    const std::string qtable = quote_identifier(table);
    auto emit = [&](std::string_view s) {
        sink(s);
        result.bytes += s.size();
    };

    // Columns, without generated ones (VIRTUAL/STORED/PERSISTENT; not MySQL's DEFAULT_GENERATED).
    std::vector<Column> columns;
    for (auto& row : conn.query("SHOW COLUMNS FROM " + qtable)) {
        if (row.size() < 6 || !row[0]) continue;
        std::string extra = upper_ascii(row[5].value_or(""));
        if (has_word(extra, "VIRTUAL") || has_word(extra, "STORED") || has_word(extra, "PERSISTENT")) continue;
        Column c;
        c.name = *row[0];
        std::string type = upper_ascii(row[1].value_or(""));
        c.is_float = type.compare(0, 5, "FLOAT") == 0;
        c.unordered_literal = c.is_float || type.compare(0, 5, "ENUM(") == 0 || type.compare(0, 4, "SET(") == 0;
        columns.push_back(std::move(c));
    }
    if (columns.empty()) throw Error(ErrorKind::database, "table " + qtable + " has no columns to dump");

    // Primary key columns in key order.
    std::vector<std::pair<unsigned long, std::string>> pk;
    for (auto& row : conn.query("SHOW KEYS FROM " + qtable)) {
        if (row.size() < 5 || !row[2] || *row[2] != "PRIMARY" || !row[3] || !row[4]) continue;
        pk.emplace_back(std::stoul(*row[3]), *row[4]);
    }
    std::sort(pk.begin(), pk.end());

    std::string create;
    {
        auto rows = conn.query("SHOW CREATE TABLE " + qtable);
        if (rows.size() != 1 || rows[0].size() != 2 || !rows[0][1])
            throw Error(ErrorKind::database, qtable + " is not a base table");
        create = std::move(*rows[0][1]);
    }
    if (options.strip_foreign_keys) create = strip_foreign_keys(create, result.foreign_keys);

    std::string header;
    header += "-- SiteLift " SITELIFT_VERSION " table file\n";
    header += "-- Server version: " + comment_safe(conn.server_version()) + "\n";
    header +=
        "SET NAMES utf8mb4;\n"
        "SET sql_mode='NO_AUTO_VALUE_ON_ZERO';\n"
        "SET foreign_key_checks=0;\n"
        "SET unique_checks=0;\n"
        "SET time_zone='+00:00';\n";
    if (!options.continuation) {
        header += "DROP TABLE IF EXISTS " + qtable + ";\n";
        header += create;
        header += ";\n";
    }
    emit(header);

    std::string select = "SELECT ";
    std::string prefix = "INSERT INTO " + qtable + " (";
    for (size_t i = 0; i < columns.size(); ++i) {
        std::string q = quote_identifier(columns[i].name);
        if (i) {
            select += ',';
            prefix += ',';
        }
        // FLOAT is sent with 6 significant digits; as DOUBLE it is exact and converts back to the same FLOAT.
        select += columns[i].is_float ? "(" + q + "+0e0)" : q;
        prefix += q;
    }
    prefix += ") VALUES ";
    select += " FROM " + qtable;
    // Where the primary key columns sit among the dumped ones (a generated key column cannot be resumed from).
    std::vector<size_t> pk_index;
    for (const auto& k : pk) {
        auto it = std::find_if(columns.begin(), columns.end(), [&](const Column& c) { return c.name == k.second; });
        if (it == columns.end() || it->unordered_literal) {  // chunks then go by offset in key order
            pk_index.clear();
            break;
        }
        pk_index.push_back(static_cast<size_t>(it - columns.begin()));
    }
    result.has_primary_key = !pk_index.empty();
    if (!options.after_key.empty()) {
        if (options.after_key.size() != pk_index.size())
            throw Error(ErrorKind::usage, "resume key does not match the primary key of " + qtable);
        // (k1 > v1) OR (k1 = v1 AND k2 > v2) OR ...: rows strictly after the last one sent, in key order.
        std::string where;
        for (size_t i = 0; i < pk_index.size(); ++i) {
            if (i) where += " OR ";
            where += '(';
            for (size_t j = 0; j < i; ++j)
                where += quote_identifier(pk[j].second) + "=" + options.after_key[j] + " AND ";
            where += quote_identifier(pk[i].second) + ">" + options.after_key[i] + ')';
        }
        select += " WHERE " + where;
    }
    if (!pk.empty()) {
        select += " ORDER BY ";
        for (size_t i = 0; i < pk.size(); ++i) {
            if (i) select += ',';
            select += quote_identifier(pk[i].second);
        }
    }
    if (options.max_rows) {
        select += " LIMIT " + std::to_string(options.max_rows);
        if (pk_index.empty() && options.offset) select += " OFFSET " + std::to_string(options.offset);
    }

    MYSQL* m = conn.raw();
    if (mysql_real_query(m, select.data(), static_cast<unsigned long>(select.size())) != 0)
        throw_mysql(m, "reading rows of " + qtable);
    std::unique_ptr<MYSQL_RES, void (*)(MYSQL_RES*)> res(mysql_use_result(m), mysql_free_result);
    if (!res) throw_mysql(m, "reading rows of " + qtable);

    const unsigned int nfields = mysql_num_fields(res.get());
    if (nfields != columns.size()) throw Error(ErrorKind::database, "unexpected column count reading " + qtable);
    MYSQL_FIELD* fields = mysql_fetch_fields(res.get());
    std::vector<ValueKind> kinds(nfields);
    for (unsigned int i = 0; i < nfields; ++i) kinds[i] = classify(fields[i]);

    Sha256 digest;
    const size_t max_bytes = options.max_statement_bytes;
    std::string stmt;
    stmt.reserve(std::min<size_t>(max_bytes, 64u << 20) + 4096);
    stmt = prefix;
    std::string carry;
    uint64_t rows_in_stmt = 0;

    while (MYSQL_ROW row = mysql_fetch_row(res.get())) {
        const unsigned long* len = mysql_fetch_lengths(res.get());
        const size_t sep = stmt.size();
        if (rows_in_stmt) stmt += ',';
        const size_t tuple_start = stmt.size();
        stmt += '(';
        for (unsigned int i = 0; i < nfields; ++i) {
            if (i) stmt += ',';
            if (!row[i]) {
                stmt.append("NULL", 4);
                continue;
            }
            std::string_view v(row[i], len[i]);
            switch (kinds[i]) {
                case ValueKind::number:
                    stmt.append(v);
                    break;
                case ValueKind::hex:
                    append_sql_hex(stmt, v);
                    break;
                case ValueKind::string:
                    append_sql_string(stmt, v);
                    break;
            }
        }
        stmt += ')';
        if (options.max_rows && !pk_index.empty()) {
            result.last_key.resize(pk_index.size());
            for (size_t k = 0; k < pk_index.size(); ++k) {
                std::string& lit = result.last_key[k];
                lit.clear();
                size_t i = pk_index[k];
                std::string_view v(row[i] ? row[i] : "", row[i] ? len[i] : 0);
                if (kinds[i] == ValueKind::number)
                    lit.assign(v);
                else if (kinds[i] == ValueKind::hex)
                    append_sql_hex(lit, v);
                else
                    append_sql_string(lit, v);
            }
        }
        digest.update(stmt.data() + tuple_start, stmt.size() - tuple_start);
        digest.update("\n", 1);
        ++result.rows;

        if (rows_in_stmt && stmt.size() + 2 > max_bytes) {
            // This row would push the statement over the budget: it opens the next one instead.
            carry.assign(stmt, tuple_start, std::string::npos);
            stmt.resize(sep);
            stmt.append(";\n", 2);
            emit(stmt);
            stmt = prefix;
            stmt += carry;
            rows_in_stmt = 1;
        } else {
            ++rows_in_stmt;
        }
    }
    if (mysql_errno(m) != 0) throw_mysql(m, "reading rows of " + qtable);
    res.reset();
    if (rows_in_stmt) {
        stmt.append(";\n", 2);
        emit(stmt);
    }
    result.checksum = digest.hex_digest();
    return result;
}

std::vector<std::string> list_tables(Connection& conn, std::string_view prefix, bool all_tables) {
    return list_objects(conn, prefix, all_tables, "BASE TABLE");
}

std::vector<std::string> list_views(Connection& conn, std::string_view prefix, bool all_tables) {
    return list_objects(conn, prefix, all_tables, "VIEW");
}

std::string dump_view(Connection& conn, const std::string& name) {
    auto rows = conn.query("SHOW CREATE VIEW " + quote_identifier(name));
    if (rows.size() != 1 || rows[0].size() < 2 || !rows[0][1])
        throw Error(ErrorKind::database, quote_identifier(name) + " is not a view");
    std::string db = current_database(conn);
    std::string sql = strip_definer(*rows[0][1], true);
    bool ambiguous = false;
    for (auto& row : conn.query("SHOW TABLES"))
        if (!row.empty() && row[0] && *row[0] == db) ambiguous = true;
    sql = strip_db_qualifiers(sql, db, ambiguous);
    return "SET NAMES utf8mb4;\n" + sql + ";\n";
}

std::string dump_triggers(Connection& conn, const std::string& table) {
    std::string db = current_database(conn);
    auto names = conn.query(
        "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA=DATABASE() AND "
        "EVENT_OBJECT_TABLE=" + conn.quote(table) + " ORDER BY EVENT_MANIPULATION, ACTION_TIMING, ACTION_ORDER");
    if (names.empty()) return std::string();
    bool ambiguous = false;
    for (auto& row : conn.query("SHOW TABLES"))
        if (!row.empty() && row[0] && *row[0] == db) ambiguous = true;

    std::string out = "SET NAMES utf8mb4;\n";
    for (auto& n : names) {
        if (n.empty() || !n[0]) continue;
        const std::string qname = quote_identifier(*n[0]);
        auto rows = conn.query("SHOW CREATE TRIGGER " + qname);
        if (rows.size() != 1 || rows[0].size() < 3 || !rows[0][2])
            throw Error(ErrorKind::database, "SHOW CREATE TRIGGER " + qname + " returned nothing");
        std::string sql_mode = rows[0][1].value_or("");
        std::string body = strip_db_qualifiers(strip_definer(*rows[0][2], false), db, ambiguous);
        const char* delimiter = nullptr;
        for (const char* d : {";;", "$$", "//", "~~", "|||", "%%%"})
            if (body.find(d) == std::string::npos) {
                delimiter = d;
                break;
            }
        if (!delimiter) throw Error(ErrorKind::database, "cannot find a delimiter for trigger " + qname);
        out += "DROP TRIGGER IF EXISTS " + qname + ";\n";
        out += "SET sql_mode=";
        append_sql_string(out, sql_mode);
        out += ";\n";
        out += std::string("DELIMITER ") + delimiter + "\n";
        out += body;
        out += delimiter;
        out += "\nDELIMITER ;\n";
    }
    out += "SET sql_mode='NO_AUTO_VALUE_ON_ZERO';\n";
    return out;
}

}  // namespace sitelift
