// The strict, streaming parser for table files.
//
// Two layers. The splitter (feed) cuts the byte stream into statements: it tracks quotes, backquotes and
// escapes so that a ';' inside a literal does not end a statement, swallows the comments allowed between
// statements and keeps its state across feed() calls, so chunks may end anywhere. Each complete statement is
// then checked against the grammar below by a plain recursive-descent pass; the SQL handed on is rebuilt from
// what that pass validated (the target table's name, the validated text), never from comments or anything
// else the file holds.
//
//   file       := { ws | "-- " comment-line | "/* comment */" | statement ";" }
//   statement  := set | drop | create | insert
//   set        := SET NAMES utf8mb4 | SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO' | SET foreign_key_checks = 0
//               | SET unique_checks = 0 | SET time_zone = '+00:00'
//   drop       := DROP TABLE IF EXISTS `source`                      (before CREATE only)
//   create     := CREATE TABLE `source` ( body ) { [,] table-option } (exactly once)
//   insert     := INSERT INTO `source` ( `col` {, `col`} ) VALUES tuple {, tuple}   (after CREATE)
//   tuple      := ( literal {, literal} )          one literal per column
//   literal    := 'str' | "str" | _binary 'str' | 0xHEX | X'HEX' | b'BITS' | -?D[.D][e[+-]D] | NULL
//
// Keywords are case-insensitive. Comments inside statements, "/*!" and "/*M!" executable comments anywhere,
// "#" comments and "--" not followed by a space are refused.
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "error.hpp"
#include "sha256.hpp"
#include "byte_scan.hpp"
#include "sql.hpp"

namespace sitelift {

namespace {

// INSERTs longer than this are handed on in pieces of about this size (at row boundaries).
constexpr size_t kStatementSplitBytes = 256u << 10;
constexpr size_t kSplitSlack = 64u << 10;  // room reserved past it, for the row that ends a piece

constexpr char kSqStops[] = {'\'', '\\'};
constexpr char kDqStops[] = {'"', '\\'};
constexpr char kStmtStops[] = {';', '\'', '"', '`'};

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline bool is_word(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '$' ||
           static_cast<unsigned char>(c) >= 0x80;
}
inline int hex_value(char c) { return is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : c - 'A' + 10; }
inline char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (upper(a[i]) != upper(b[i])) return false;
    return true;
}

std::string printable(std::string_view s, size_t max = 40) {
    std::string out;
    for (char c : s.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (s.size() > max) out += "...";
    return out;
}

// Words refused anywhere in a CREATE TABLE body: anything that reaches other tables, files, sequences or
// queries.
const char* const kForbiddenBodyWords[] = {"REFERENCES", "FOREIGN", "SELECT",    "LIKE",     "UNION",
                                           "CONNECTION", "DIRECTORY", "ENGINE", "PARTITION", "PARTITIONS",
                                           "LOAD_FILE", "NEXTVAL",  "LASTVAL", "SETVAL",    "NEXT",
                                           "PREVIOUS",  "INTO",     "OUTFILE", "DUMPFILE",  "TABLESPACE"};

const char* const kEngines[] = {"INNODB", "MYISAM", "ARIA", "MEMORY", "HEAP"};

}  // namespace

struct TableFileParser::Impl {
    enum State : uint8_t {
        OUT,           // between statements
        OUT_DASH,      // "-"
        OUT_DASH2,     // "--"
        LINE_COMMENT,  // "-- ..." up to the end of the line
        OUT_SLASH,     // "/"
        BLOCK_START,   // "/*"
        BLOCK_M,       // "/*M"
        BLOCK,         // inside /* */
        BLOCK_STAR,    // inside, after '*'
        BLOCK_SLASH,   // inside, after '/'
        STMT,          // inside a statement, outside quotes
        SQ,            // '...'
        SQ_ESC,        // '... after a backslash
        DQ,            // "..."
        DQ_ESC,        // "... after a backslash
        BT,            // `...`
    };

    std::string source, target, qtarget;
    std::function<void(ParsedStatement&&)> on_statement;
    ValueTransform* transform;
    size_t max_bytes;

    State state = OUT;
    uint64_t line = 1;       // line of the next byte while between statements
    uint64_t stmt_line = 1;  // line the current statement starts on
    std::string stmt;

    Sha256 digest;
    uint64_t rows = 0;
    uint64_t values_changed = 0;
    bool seen_create = false;
    bool finished = false;
    bool broken = false;  // an error was thrown: no further input is accepted
    std::string checksum;

    // Per statement scratch, reused.
    std::vector<std::string> columns;
    std::string decoded;
    std::string_view s;  // the statement being checked

    Impl(std::string src, std::string tgt, std::function<void(ParsedStatement&&)> cb, ValueTransform* t, size_t max)
        : source(std::move(src)),
          target(std::move(tgt)),
          qtarget(quote_identifier(target)),
          on_statement(std::move(cb)),
          transform(t),
          max_bytes(max) {}

    [[noreturn]] void fail_at_line(uint64_t l, const std::string& msg) {
        throw Error(ErrorKind::security, "line " + std::to_string(l) + ": " + msg);
    }
    // Error inside the current statement, at byte offset pos.
    [[noreturn]] void fail(size_t pos, const std::string& msg) {
        uint64_t l = stmt_line;
        for (size_t i = 0; i < pos && i < s.size(); ++i) l += (s[i] == '\n');
        fail_at_line(l, msg);
    }

    // ---- splitter -----------------------------------------------------------------------------------------
    void append(const char* p, size_t n) {
        if (stmt.size() + n > max_bytes)
            fail_at_line(stmt_line, "statement longer than " + std::to_string(max_bytes) + " bytes");
        stmt.append(p, n);
    }

    void feed(const char* p, const char* end) {
        if (finished) throw Error(ErrorKind::usage, "table file parser: feed() after finish()");
        while (p < end) {
            char c = *p;
            switch (state) {
                case OUT:
                    if (c == '\n') {
                        ++line;
                        ++p;
                    } else if (is_space(c)) {
                        ++p;
                    } else if (c == '-') {
                        state = OUT_DASH;
                        ++p;
                    } else if (c == '/') {
                        state = OUT_SLASH;
                        ++p;
                    } else if (c == ';') {
                        fail_at_line(line, "empty statement");
                    } else if (c == '#') {
                        fail_at_line(line, "'#' comments are not allowed");
                    } else {
                        state = STMT;
                        stmt.clear();
                        stmt_line = line;
                    }
                    break;
                case OUT_DASH:
                    if (c != '-') fail_at_line(line, "unexpected '-' outside a statement");
                    state = OUT_DASH2;
                    ++p;
                    break;
                case OUT_DASH2:
                    // MySQL only starts a comment at "--" followed by whitespace or a control character.
                    if (static_cast<unsigned char>(c) > 0x20 && c != 0x7f)
                        fail_at_line(line, "'--' not followed by a space is not a comment");
                    state = LINE_COMMENT;
                    break;
                case LINE_COMMENT: {
                    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
                    if (!nl) {
                        p = end;
                    } else {
                        p = nl + 1;
                        ++line;
                        state = OUT;
                    }
                    break;
                }
                case OUT_SLASH:
                    if (c != '*') fail_at_line(line, "unexpected '/' outside a statement");
                    state = BLOCK_START;
                    ++p;
                    break;
                case BLOCK_START:
                    if (c == '!') fail_at_line(line, "executable comments (/*!...*/) are not allowed");
                    if (c == 'M') {
                        state = BLOCK_M;
                        ++p;
                    } else {
                        state = BLOCK;
                    }
                    break;
                case BLOCK_M:
                    if (c == '!') fail_at_line(line, "executable comments (/*M!...*/) are not allowed");
                    state = BLOCK;
                    break;
                case BLOCK:
                    while (p < end) {
                        c = *p++;
                        if (c == '\n') {
                            ++line;
                        } else if (c == '*') {
                            state = BLOCK_STAR;
                            break;
                        } else if (c == '/') {
                            state = BLOCK_SLASH;
                            break;
                        }
                    }
                    break;
                case BLOCK_STAR:
                    if (c == '/') {
                        state = OUT;
                        ++p;
                    } else if (c == '*') {
                        ++p;
                    } else {
                        state = BLOCK;
                    }
                    break;
                case BLOCK_SLASH:
                    if (c == '*') fail_at_line(line, "nested comments are not allowed");
                    state = BLOCK;
                    break;
                default:
                    p = scan_statement(p, end);
                    break;
            }
        }
    }

    // Consumes statement bytes until the terminating ';' (then checks the statement) or the end of the chunk.
    const char* scan_statement(const char* p, const char* end) {
        const char* run = p;
        State st = state;
        while (p < end) {
            switch (st) {
                case STMT: {
                    p = find_any(p, end, kStmtStops);
                    if (p == end) break;
                    char c = *p++;
                    if (c == ';') {
                        append(run, static_cast<size_t>(p - 1 - run));
                        state = OUT;
                        complete_statement();
                        return p;
                    }
                    st = c == '\'' ? SQ : c == '"' ? DQ : BT;
                    break;
                }
                case SQ:
                case DQ:
                    // Escapes are handled inline: text is full of them (\n, \').
                    for (;;) {
                        p = st == SQ ? find_any(p, end, kSqStops) : find_any(p, end, kDqStops);
                        if (p == end) break;
                        if (*p == '\\') {
                            if (p + 1 == end) {
                                st = st == SQ ? SQ_ESC : DQ_ESC;
                                p = end;
                                break;
                            }
                            p += 2;
                            continue;
                        }
                        ++p;
                        st = STMT;
                        break;
                    }
                    break;
                case SQ_ESC:
                    ++p;
                    st = SQ;
                    break;
                case DQ_ESC:
                    ++p;
                    st = DQ;
                    break;
                case BT: {
                    p = static_cast<const char*>(std::memchr(p, '`', static_cast<size_t>(end - p)));
                    if (!p) {
                        p = end;
                        break;
                    }
                    ++p;
                    st = STMT;
                    break;
                }
                default:
                    break;
            }
        }
        append(run, static_cast<size_t>(end - run));
        state = st;
        return end;
    }

    void complete_statement() {
        s = stmt;
        process();
        // Raw newlines are rare inside statements (literals hold \n escapes), so memchr hops are cheap.
        uint64_t newlines = 0;
        for (const char *p = stmt.data(), *end = p + stmt.size();
             (p = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)))); ++p)
            ++newlines;
        line += newlines;
        stmt_line = line;
        if (stmt.capacity() > (64u << 20)) {
            std::string().swap(stmt);
        } else {
            stmt.clear();
        }
        s = std::string_view();
    }

    void finish() {
        if (finished) return;
        switch (state) {
            case OUT:
            case OUT_DASH2:
            case LINE_COMMENT:
                break;
            case SQ:
            case SQ_ESC:
            case DQ:
            case DQ_ESC:
                fail_at_line(stmt_line, "file ends inside a string literal (unterminated string)");
            case STMT:
            case BT:
                fail_at_line(stmt_line, "file ends inside a statement (missing ';')");
            case BLOCK_START:
            case BLOCK_M:
            case BLOCK:
            case BLOCK_STAR:
            case BLOCK_SLASH:
                fail_at_line(line, "file ends inside a comment");
            default:
                fail_at_line(line, "file ends unexpectedly");
        }
        if (!seen_create) fail_at_line(line, "the file has no CREATE TABLE statement");
        checksum = digest.hex_digest();
        finished = true;
    }

    // ---- statement grammar --------------------------------------------------------------------------------
    size_t ws(size_t i) const {
        while (i < s.size() && is_space(s[i])) ++i;
        return i;
    }
    size_t word_end(size_t i) const {
        while (i < s.size() && is_word(s[i])) ++i;
        return i;
    }
    // Expects keyword kw (upper case) at i (after spaces); returns the position after it.
    size_t keyword(size_t i, std::string_view kw) {
        i = ws(i);
        size_t e = word_end(i);
        if (!iequals(s.substr(i, e - i), kw))
            fail(i, "expected " + std::string(kw) + " but found '" + printable(s.substr(i, std::max<size_t>(e - i, 1))) + "'");
        return e;
    }
    size_t expect_char(size_t i, char c, const char* what) {
        i = ws(i);
        if (i >= s.size() || s[i] != c) fail(i, std::string("expected ") + what);
        return i + 1;
    }
    void expect_end(size_t i, const char* what) {
        i = ws(i);
        if (i < s.size()) fail(i, std::string("unexpected text after ") + what + ": '" + printable(s.substr(i)) + "'");
    }
    // `ident` at i (after spaces); sets name to its unquoted value; returns the position after it.
    size_t backquoted(size_t i, std::string& name) {
        i = ws(i);
        if (i >= s.size() || s[i] != '`') fail(i, "expected a `quoted` name");
        name.clear();
        for (size_t j = i + 1; j < s.size(); ++j) {
            if (s[j] == '`') {
                if (j + 1 < s.size() && s[j + 1] == '`') {
                    name += '`';
                    ++j;
                    continue;
                }
                return j + 1;
            }
            name += s[j];
        }
        fail(i, "unterminated `quoted` name");
    }
    size_t source_table_name(size_t i) {
        std::string name;
        size_t e = backquoted(i, name);
        if (name != source) fail(ws(i), "statement names table `" + printable(name, 64) + "`, not the file's own table");
        if (e < s.size() && s[e] == '.') fail(e, "qualified table names are not allowed");
        return e;
    }
    // End of the quoted string starting at i (s[i] is the quote): the position after the closing quote.
    size_t string_end(size_t i) {
        const char q = s[i];
        const char* base = s.data();
        const char* end = base + s.size();
        const char* p = base + i + 1;
        for (;;) {
            p = q == '\'' ? find_any(p, end, kSqStops) : find_any(p, end, kDqStops);
            if (p == end) fail(i, "unterminated string literal");
            if (*p == '\\') {
                if (p + 1 >= end) fail(i, "unterminated string literal");
                p += 2;
                continue;
            }
            if (p + 1 < end && p[1] == q) {
                p += 2;
                continue;
            }
            return static_cast<size_t>(p + 1 - base);
        }
    }

    void process() {
        size_t i = ws(0);
        size_t e = word_end(i);
        std::string_view w = s.substr(i, e - i);
        if (iequals(w, "INSERT")) return process_insert(e);
        if (iequals(w, "SET")) return process_set(e);
        if (iequals(w, "CREATE")) return process_create(e);
        if (iequals(w, "DROP")) return process_drop(e);
        fail(i, "statement not allowed: '" + printable(w.empty() ? s.substr(i, 1) : w) + "'");
    }

    void process_set(size_t i) {
        i = ws(i);
        size_t e = word_end(i);
        std::string_view var = s.substr(i, e - i);
        if (iequals(var, "NAMES")) {
            size_t v = ws(e);
            size_t ve = word_end(v);
            if (!iequals(s.substr(v, ve - v), "utf8mb4")) fail(v, "only SET NAMES utf8mb4 is allowed");
            return expect_end(ve, "SET NAMES");
        }
        size_t v = expect_char(e, '=', "'=' in SET");
        v = ws(v);
        if (iequals(var, "sql_mode") || iequals(var, "time_zone")) {
            std::string_view want = iequals(var, "sql_mode") ? "NO_AUTO_VALUE_ON_ZERO" : "+00:00";
            if (v >= s.size() || s[v] != '\'') fail(v, "unexpected SET value");
            size_t ve = string_end(v);
            std::string value;
            if (!decode_sql_string(s.substr(v, ve - v), value) || !iequals(value, want))
                fail(v, "SET " + std::string(var) + " may only be '" + std::string(want) + "'");
            return expect_end(ve, "SET");
        }
        if (iequals(var, "foreign_key_checks") || iequals(var, "unique_checks")) {
            if (v >= s.size() || s[v] != '0' || (v + 1 < s.size() && is_word(s[v + 1])))
                fail(v, "SET " + std::string(var) + " may only be 0");
            return expect_end(v + 1, "SET");
        }
        fail(i, "SET of '" + printable(var.empty() ? s.substr(i, 1) : var) + "' is not allowed");
    }

    void process_drop(size_t i) {
        i = keyword(i, "TABLE");
        i = keyword(i, "IF");
        i = keyword(i, "EXISTS");
        size_t name_pos = ws(i);
        i = source_table_name(i);
        expect_end(i, "DROP TABLE");
        if (seen_create) fail(name_pos, "DROP TABLE after CREATE TABLE");
    }

    size_t option_value_word(size_t i, std::string_view* value) {
        i = ws(i);
        if (i < s.size() && s[i] == '=') i = ws(i + 1);
        size_t e = i;
        while (e < s.size() && (is_word(s[e]) && static_cast<unsigned char>(s[e]) < 0x80 && s[e] != '$')) ++e;
        if (e == i) fail(i, "expected a table option value");
        *value = s.substr(i, e - i);
        return e;
    }
    size_t option_value_number(size_t i, bool allow_default) {
        std::string_view v;
        size_t e = option_value_word(i, &v);
        if (allow_default && iequals(v, "DEFAULT")) return e;
        for (char c : v)
            if (!is_digit(c)) fail(e - v.size(), "expected a number as table option value");
        return e;
    }

    void process_create(size_t i) {
        size_t table_pos = ws(i);
        i = keyword(i, "TABLE");
        i = source_table_name(i);
        if (seen_create) fail(table_pos, "second CREATE TABLE");
        size_t body = ws(i);
        if (body >= s.size() || s[body] != '(') fail(body, "expected '(' after the table name");

        // The body: balanced parentheses; quoted strings and names are skipped; words checked.
        int depth = 0;
        size_t p = body;
        for (;;) {
            if (p >= s.size()) fail(body, "unbalanced parentheses in CREATE TABLE");
            char c = s[p];
            if (c == '\'' || c == '"') {
                p = string_end(p);
            } else if (c == '`') {
                std::string ignored;
                p = backquoted(p, ignored);
            } else if (c == '(') {
                ++depth;
                ++p;
            } else if (c == ')') {
                ++p;
                if (--depth == 0) break;
            } else if (c == '#' || (c == '/' && p + 1 < s.size() && s[p + 1] == '*') ||
                       (c == '-' && p + 1 < s.size() && s[p + 1] == '-')) {
                fail(p, "comments are not allowed inside CREATE TABLE");
            } else if (c == '@') {
                fail(p, "variables are not allowed in CREATE TABLE");
            } else if (is_word(c)) {
                size_t e = word_end(p);
                std::string_view w = s.substr(p, e - p);
                for (const char* bad : kForbiddenBodyWords)
                    if (iequals(w, bad)) fail(p, "'" + printable(w) + "' is not allowed in CREATE TABLE");
                p = e;
            } else {
                ++p;
            }
        }

        // Table options after the closing parenthesis: whitelist only.
        for (;;) {
            p = ws(p);
            if (p >= s.size()) break;
            if (s[p] == ',') {
                ++p;
                continue;
            }
            size_t e = word_end(p);
            std::string_view opt = s.substr(p, e - p);
            std::string_view v;
            if (iequals(opt, "ENGINE")) {
                e = option_value_word(e, &v);
                bool ok = false;
                for (const char* eng : kEngines) ok = ok || iequals(v, eng);
                if (!ok) fail(e - v.size(), "ENGINE=" + printable(v) + " is not allowed");
            } else if (iequals(opt, "DEFAULT")) {
                size_t w = ws(e);
                size_t we = word_end(w);
                std::string_view sub = s.substr(w, we - w);
                if (iequals(sub, "CHARACTER")) we = keyword(we, "SET");
                else if (!iequals(sub, "CHARSET") && !iequals(sub, "COLLATE"))
                    fail(w, "table option DEFAULT " + printable(sub) + " is not allowed");
                e = option_value_word(we, &v);
            } else if (iequals(opt, "CHARACTER")) {
                e = option_value_word(keyword(e, "SET"), &v);
            } else if (iequals(opt, "CHARSET") || iequals(opt, "COLLATE") || iequals(opt, "ROW_FORMAT")) {
                e = option_value_word(e, &v);
            } else if (iequals(opt, "AUTO_INCREMENT") || iequals(opt, "PAGE_CHECKSUM") ||
                       iequals(opt, "TRANSACTIONAL") || iequals(opt, "CHECKSUM") ||
                       iequals(opt, "DELAY_KEY_WRITE") || iequals(opt, "KEY_BLOCK_SIZE")) {
                e = option_value_number(e, false);
            } else if (iequals(opt, "STATS_PERSISTENT") || iequals(opt, "STATS_AUTO_RECALC") ||
                       iequals(opt, "STATS_SAMPLE_PAGES") || iequals(opt, "PACK_KEYS")) {
                e = option_value_number(e, true);
            } else if (iequals(opt, "COMMENT")) {
                size_t q = ws(e);
                if (q < s.size() && s[q] == '=') q = ws(q + 1);
                if (q >= s.size() || (s[q] != '\'' && s[q] != '"')) fail(q, "expected a string after COMMENT");
                e = string_end(q);
            } else {
                fail(p, "table option '" + printable(opt.empty() ? s.substr(p, 1) : opt) + "' is not allowed");
            }
            p = e;
        }

        seen_create = true;
        ParsedStatement st;
        st.kind = StatementKind::create_table;
        st.table = target;
        st.sql.reserve(qtarget.size() + s.size());
        st.sql = "CREATE TABLE ";
        st.sql += qtarget;
        st.sql += ' ';
        st.sql.append(s.substr(body));
        on_statement(std::move(st));
    }

    void process_insert(size_t i) {
        size_t into = ws(i);
        i = keyword(i, "INTO");
        i = source_table_name(i);
        if (!seen_create) fail(into, "INSERT before CREATE TABLE");
        size_t cols_pos = ws(i);
        i = expect_char(i, '(', "'(' and the column list");
        columns.clear();
        for (;;) {
            std::string name;
            i = backquoted(i, name);
            columns.push_back(std::move(name));
            i = ws(i);
            if (i < s.size() && s[i] == ',') {
                ++i;
                continue;
            }
            i = expect_char(i, ')', "',' or ')' in the column list");
            break;
        }
        i = keyword(i, "VALUES");
        const std::string_view head = s.substr(cols_pos, i - cols_pos);  // "(`a`,`b`) VALUES"

        ParsedStatement st;
        std::string& out = st.sql;
        size_t copied = 0;  // s[copied..] still to be copied to out
        // Starts a statement, the first or the next piece of a long one, whose rows follow at s[from]. Room
        // for one piece (see kStatementSplitBytes), with headroom for values a transform makes longer, so the
        // buffer rarely has to move; the loader's queue is bounded by sizes, so capacity beyond that would be
        // memory it does not count.
        auto start_piece = [&](size_t from, std::string_view sep) {
            st = ParsedStatement();
            st.kind = StatementKind::insert;
            st.table = target;
            const size_t body = std::min(s.size() - from, kStatementSplitBytes + kSplitSlack);
            out.reserve(qtarget.size() + 14 + head.size() + body + (transform ? body / 16 + 256 : 0));
            out = "INSERT INTO ";
            out += qtarget;
            out += ' ';
            out += head;
            out += sep;
            copied = from;
        };
        start_piece(i, "");
        // A value the transform changed: the literal s[lit, end) is replaced by what `write` appends.
        auto replace_literal = [&](size_t lit, size_t end, auto&& write) {
            ++values_changed;
            out.append(s.data() + copied, lit - copied);
            write();
            copied = end;
        };
        // Offers the bytes of a hex literal (digits s[from, to), the literal s[lit, end)) to the transform and
        // writes them back as hex when they changed.
        auto transform_hex = [&](std::string_view column, size_t lit, size_t from, size_t to, size_t end) {
            decoded.clear();
            size_t h = from;
            if (((to - from) & 1) != 0) decoded.push_back(static_cast<char>(hex_value(s[h++])));  // 0xABC is 0x0ABC
            for (; h < to; h += 2) decoded.push_back(static_cast<char>(hex_value(s[h]) * 16 + hex_value(s[h + 1])));
            if (transform->transform_binary(column, decoded))
                replace_literal(lit, end, [&] { append_sql_hex(out, decoded); });
        };

        const size_t ncols = columns.size();
        const size_t n = s.size();
        uint64_t tuples = 0;
        for (;;) {
            i = ws(i);
            if (i >= n || s[i] != '(') fail(i, "expected '(' starting a row");
            const size_t tuple_start = i++;
            for (size_t k = 0; k < ncols; ++k) {
                i = ws(i);
                if (i >= n) fail(i, "row ends early");
                const size_t lit = i;
                char c = s[i];
                if (c == '\'' || c == '"') {
                    i = string_end(i);
                    if (transform) {
                        std::string_view literal = s.substr(lit, i - lit);
                        if (!decode_sql_string(literal, decoded)) fail(lit, "malformed string literal");
                        if (transform->transform(columns[k], decoded))
                            replace_literal(lit, i, [&] { append_sql_string(out, decoded); });
                    }
                } else if (c == '0' && i + 1 < n && s[i + 1] == 'x') {
                    size_t j = i + 2;
                    while (j < n && is_hex(s[j])) ++j;
                    if (j == i + 2) fail(i, "empty hex literal");
                    if (transform) transform_hex(columns[k], lit, i + 2, j, j);
                    i = j;
                } else if ((c == 'x' || c == 'X') && i + 1 < n && s[i + 1] == '\'') {
                    size_t j = i + 2;
                    while (j < n && is_hex(s[j])) ++j;
                    if (j >= n || s[j] != '\'' || ((j - i - 2) & 1)) fail(i, "malformed X'...' literal");
                    if (transform) transform_hex(columns[k], lit, i + 2, j, j + 1);
                    i = j + 1;
                } else if ((c == 'b' || c == 'B') && i + 1 < n && s[i + 1] == '\'') {
                    size_t j = i + 2;
                    while (j < n && (s[j] == '0' || s[j] == '1')) ++j;
                    if (j >= n || s[j] != '\'') fail(i, "malformed b'...' literal");
                    i = j + 1;
                } else if (c == '_') {
                    size_t e = word_end(i);
                    if (!iequals(s.substr(i, e - i), "_binary")) fail(i, "only the _binary introducer is allowed");
                    i = ws(e);
                    if (i >= n || (s[i] != '\'' && s[i] != '"')) fail(i, "expected a string after _binary");
                    const size_t str = i;
                    i = string_end(i);
                    if (transform) {
                        if (!decode_sql_string(s.substr(str, i - str), decoded)) fail(str, "malformed string literal");
                        if (transform->transform_binary(columns[k], decoded)) {
                            replace_literal(lit, i, [&] {
                                out.append("_binary ");
                                append_sql_string(out, decoded);
                            });
                        }
                    }
                } else if (c == '-' || is_digit(c)) {
                    size_t j = i + (c == '-');
                    size_t d = j;
                    while (j < n && is_digit(s[j])) ++j;
                    if (j == d) fail(i, "malformed number");
                    if (j < n && s[j] == '.') {
                        size_t f = ++j;
                        while (j < n && is_digit(s[j])) ++j;
                        if (j == f) fail(i, "malformed number");
                    }
                    if (j < n && (s[j] == 'e' || s[j] == 'E')) {
                        ++j;
                        if (j < n && (s[j] == '+' || s[j] == '-')) ++j;
                        size_t x = j;
                        while (j < n && is_digit(s[j])) ++j;
                        if (j == x) fail(i, "malformed number");
                    }
                    i = j;
                } else if ((c == 'N' || c == 'n') && iequals(s.substr(i, word_end(i) - i), "NULL")) {
                    i += 4;
                } else {
                    fail(i, "expected a literal value, found '" + printable(s.substr(i, 20)) + "'");
                }
                i = ws(i);
                const char want = k + 1 < ncols ? ',' : ')';
                if (i >= n || s[i] != want) {
                    if (i < n && (s[i] == ',' || s[i] == ')'))
                        fail(i, "row has " + std::string(want == ',' ? "fewer" : "more") + " values than the " +
                                    std::to_string(ncols) + " columns");
                    fail(i, "expected '" + std::string(1, want) + "' after a value, found '" +
                                printable(s.substr(i, 20)) + "'");
                }
                ++i;
            }
            digest.update(s.data() + tuple_start, i - tuple_start);
            digest.update("\n", 1);
            ++tuples;
            const size_t tuple_end = i;
            i = ws(i);
            if (i >= n) break;
            if (s[i] != ',') fail(i, "unexpected text after a row: '" + printable(s.substr(i, 20)) + "'");
            ++i;
            // A long statement goes on as a new one, so that the loader has pieces to spread over its
            // connections, and a table's first statement (which runs alone) stays short.
            if (out.size() + (tuple_end - copied) >= kStatementSplitBytes) {
                out.append(s.data() + copied, tuple_end - copied);
                rows += tuples;
                st.rows = tuples;
                tuples = 0;
                on_statement(std::move(st));
                start_piece(i, " ");
            }
        }
        out.append(s.data() + copied, n - copied);
        rows += tuples;
        st.rows = tuples;
        on_statement(std::move(st));
    }
};

TableFileParser::TableFileParser(std::string source_table, std::string target_table,
                                 std::function<void(ParsedStatement&&)> on_statement, ValueTransform* transform,
                                 size_t max_statement_bytes)
    : impl_(std::make_unique<Impl>(std::move(source_table), std::move(target_table), std::move(on_statement),
                                   transform, max_statement_bytes)) {}

TableFileParser::~TableFileParser() = default;

void TableFileParser::set_continuation() {
    // As if CREATE TABLE had been seen: DROP and CREATE are then refused, INSERTs accepted.
    impl_->seen_create = true;
}

void TableFileParser::feed(const char* data, size_t len) {
    if (impl_->broken) throw Error(ErrorKind::usage, "table file parser: feed() after an error");
    try {
        impl_->feed(data, data + len);
    } catch (...) {
        impl_->broken = true;  // the splitter state is meaningless now
        throw;
    }
}

void TableFileParser::finish() {
    if (impl_->broken) throw Error(ErrorKind::usage, "table file parser: finish() after an error");
    try {
        impl_->finish();
    } catch (...) {
        impl_->broken = true;
        throw;
    }
}

uint64_t TableFileParser::rows() const { return impl_->rows; }

const std::string& TableFileParser::checksum() const { return impl_->checksum; }

uint64_t TableFileParser::values_changed() const { return impl_->values_changed; }

}  // namespace sitelift
