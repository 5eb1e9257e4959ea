// TableFileParser: grammar, chunking, hostile input, value transforms (no database needed).
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "sql.hpp"

using namespace sitelift;

namespace {

std::string sha256_hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
    std::string out;
    char buf[3];
    for (unsigned int i = 0; i < n; ++i) {
        snprintf(buf, sizeof buf, "%02x", md[i]);
        out += buf;
    }
    return out;
}

struct Parsed {
    std::vector<ParsedStatement> statements;
    uint64_t rows = 0;
    uint64_t changed = 0;
    std::string checksum;
};

// Parses `file` fed in pieces of the given sizes (the last size repeats).
Parsed parse(const std::string& file, std::vector<size_t> chunks = {}, ValueTransform* transform = nullptr,
             const std::string& source = "wp_posts", const std::string& target = "tmp_posts",
             size_t max_bytes = 256u << 20) {
    Parsed r;
    TableFileParser p(source, target, [&](ParsedStatement&& st) { r.statements.push_back(std::move(st)); },
                      transform, max_bytes);
    if (chunks.empty()) chunks.push_back(file.size() ? file.size() : 1);
    size_t pos = 0, ci = 0;
    while (pos < file.size()) {
        size_t n = std::min(chunks[std::min(ci, chunks.size() - 1)], file.size() - pos);
        p.feed(file.data() + pos, n);
        pos += n;
        ++ci;
    }
    p.finish();
    r.rows = p.rows();
    r.changed = p.values_changed();
    r.checksum = p.checksum();
    return r;
}

const std::string kHeader =
    "-- SiteLift 0.1.0 table file\n"
    "-- Server version: 10.11.6-MariaDB\n"
    "SET NAMES utf8mb4;\n"
    "SET sql_mode='NO_AUTO_VALUE_ON_ZERO';\n"
    "SET foreign_key_checks=0;\n"
    "SET unique_checks=0;\n"
    "SET time_zone='+00:00';\n";

const std::string kCreate =
    "CREATE TABLE `wp_posts` (\n"
    "  `ID` bigint(20) unsigned NOT NULL AUTO_INCREMENT,\n"
    "  `post_content` longtext NOT NULL DEFAULT '',\n"
    "  `guid` varchar(255) NOT NULL DEFAULT 'it''s \\'(;)\\' -- /* x */',\n"
    "  `bin` blob DEFAULT NULL,\n"
    "  `j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`j`)),\n"
    "  `g` int(11) GENERATED ALWAYS AS (`ID` * 2) VIRTUAL,\n"
    "  PRIMARY KEY (`ID`),\n"
    "  KEY `guid` (`guid`(191))\n"
    ") ENGINE=InnoDB AUTO_INCREMENT=42 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci "
    "COMMENT='posts; (really)'";

const std::vector<std::string> kTuples = {
    "(1,'Hello \\'world\\'; DROP TABLE x; -- ','https://old.example/?p=1',0x00ff27,'{\"a\":1}')",
    "(2,'line\\nbreak \\\\ back\\\\slash \\0 nul \\Z ctrl','http://old.example/x',_binary 'ab\\'c',NULL)",
    "(3,'\xf0\x9f\x98\x80 emoji','it''s \"double\"',X'DEADbeef',\"dq \\\"x\\\" 'y'\")",
    "(-4,'',\"\",b'0101',-1.5e-7)",
    "(5,'a\\%b\\_c','old.example',0x41,12.50)",
};

std::string make_file(const std::vector<std::string>& tuples = kTuples) {
    std::string f = kHeader + "DROP TABLE IF EXISTS `wp_posts`;\n" + kCreate + ";\n";
    f += "INSERT INTO `wp_posts` (`ID`,`post_content`,`guid`,`bin`,`j`) VALUES " + tuples[0] + "," + tuples[1] +
         ";\n";
    f += "/* a plain comment ; with 'quotes' */\n";
    f += "INSERT INTO `wp_posts` (`ID`,`post_content`,`guid`,`bin`,`j`) VALUES ";
    for (size_t i = 2; i < tuples.size(); ++i) f += (i > 2 ? "," : "") + tuples[i];
    f += ";\n-- trailer\n";
    return f;
}

std::string expected_checksum(const std::vector<std::string>& tuples = kTuples) {
    std::string all;
    for (auto& t : tuples) all += t + "\n";
    return sha256_hex(all);
}

void expect_refused(const std::string& file, const std::string& why, const std::string& source = "wp_posts") {
    try {
        parse(file, {}, nullptr, source);
        ADD_FAILURE() << "accepted (" << why << "):\n" << file;
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::security) << why << ": " << e.what();
        EXPECT_EQ(std::string(e.what()).rfind("line ", 0), 0u) << why << ": " << e.what();
    }
    // Also byte by byte: the verdict must not depend on chunking.
    try {
        parse(file, {1}, nullptr, source);
        ADD_FAILURE() << "accepted with 1-byte chunks (" << why << ")";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::security) << why;
    }
}

const std::string kPrelude = kHeader + kCreate + ";\n";

}  // namespace

TEST(SqlParse, AcceptsTheDumpGrammarAndRenames) {
    Parsed r = parse(make_file());
    ASSERT_EQ(r.statements.size(), 3u);
    EXPECT_EQ(r.statements[0].kind, StatementKind::create_table);
    EXPECT_EQ(r.statements[0].table, "tmp_posts");
    EXPECT_EQ(r.statements[0].sql, "CREATE TABLE `tmp_posts` " + kCreate.substr(kCreate.find('(')));
    EXPECT_EQ(r.statements[1].kind, StatementKind::insert);
    EXPECT_EQ(r.statements[1].rows, 2u);
    EXPECT_EQ(r.statements[1].sql, "INSERT INTO `tmp_posts` (`ID`,`post_content`,`guid`,`bin`,`j`) VALUES " +
                                       kTuples[0] + "," + kTuples[1]);
    EXPECT_EQ(r.statements[2].rows, 3u);
    EXPECT_EQ(r.rows, 5u);
    EXPECT_EQ(r.checksum, expected_checksum());
    EXPECT_EQ(r.changed, 0u);
}

TEST(SqlParse, KeywordsAreCaseInsensitiveAndSpacingIsFree) {
    std::string f =
        "set names UTF8MB4 ;\nSet SQL_MODE = 'no_auto_value_on_zero';\n set foreign_key_checks = 0;\n"
        "drop table if exists `wp_posts`;\n"
        "create table `wp_posts`(`a` int) engine = innodb , default character set = utf8mb4;\n"
        "insert into `wp_posts` ( `a` ) values\n( 1 ) ,\n(\t2\t);\n";
    Parsed r = parse(f);
    ASSERT_EQ(r.statements.size(), 2u);
    EXPECT_EQ(r.rows, 2u);
    EXPECT_EQ(r.checksum, sha256_hex("( 1 )\n(\t2\t)\n"));  // tuples hashed exactly as written
    EXPECT_EQ(r.statements[1].sql, "INSERT INTO `tmp_posts` ( `a` ) values\n( 1 ) ,\n(\t2\t)");
}

TEST(SqlParse, ChunkingAnywhereGivesTheSameResult) {
    const std::string file = make_file();
    const Parsed whole = parse(file);
    auto same = [&](const Parsed& r, const std::string& how) {
        ASSERT_EQ(r.statements.size(), whole.statements.size()) << how;
        for (size_t i = 0; i < r.statements.size(); ++i) {
            EXPECT_EQ(r.statements[i].sql, whole.statements[i].sql) << how;
            EXPECT_EQ(r.statements[i].rows, whole.statements[i].rows) << how;
        }
        EXPECT_EQ(r.checksum, whole.checksum) << how;
        EXPECT_EQ(r.rows, whole.rows) << how;
    };
    for (size_t split = 1; split < file.size(); ++split) same(parse(file, {split, file.size()}), "split " + std::to_string(split));
    same(parse(file, {1}), "1-byte chunks");
    same(parse(file, {2}), "2-byte chunks");
    same(parse(file, {7}), "7-byte chunks");
    std::mt19937 rng(7);
    for (int n = 0; n < 50; ++n) {
        std::vector<size_t> sizes;
        for (int i = 0; i < 200; ++i) sizes.push_back(1 + rng() % 23);
        same(parse(file, sizes), "random chunks");
    }
}

TEST(SqlParse, QuotesHidingStatementsStayInsideTheLiteral) {
    // MySQL reads '\'); DROP TABLE x; -- ' as one string; so must we.
    std::string f = kPrelude + "INSERT INTO `wp_posts` (`a`) VALUES ('\\'); DROP TABLE x; -- ');\n";
    Parsed r = parse(f, {1});
    ASSERT_EQ(r.statements.size(), 2u);
    EXPECT_EQ(r.rows, 1u);
    // ... and '\\' ends right after the escaped backslash, so what follows is a statement of its own.
    expect_refused(kPrelude + "INSERT INTO `wp_posts` (`a`) VALUES ('\\\\'); DROP TABLE x; -- ');\n",
                   "statement after an escaped backslash");
    // A doubled quote does not end the literal either...
    r = parse(kPrelude + "INSERT INTO `wp_posts` (`a`) VALUES ('x''); DROP TABLE x; -- ');\n", {1});
    EXPECT_EQ(r.rows, 1u);
    // ... but a tripled one does.
    expect_refused(kPrelude + "INSERT INTO `wp_posts` (`a`) VALUES ('x'''); DROP TABLE x; -- ');\n",
                   "doubled quote then end of literal then statement");
}

TEST(SqlParse, RefusesHostileFiles) {
    const std::string ins = "INSERT INTO `wp_posts` (`a`,`b`) VALUES ";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"other table in INSERT", kPrelude + "INSERT INTO `wp_users` (`a`) VALUES (1);"},
        {"other table in CREATE", kHeader + "CREATE TABLE `wp_users` (`a` int);"},
        {"other table in DROP", kHeader + "DROP TABLE IF EXISTS `wp_users`;" + kCreate + ";"},
        {"DROP without IF EXISTS", kHeader + "DROP TABLE `wp_posts`;" + kCreate + ";"},
        {"DROP of two tables", kHeader + "DROP TABLE IF EXISTS `wp_posts`, `wp_users`;" + kCreate + ";"},
        {"DROP after CREATE", kPrelude + "DROP TABLE IF EXISTS `wp_posts`;"},
        {"qualified table", kPrelude + "INSERT INTO `wp_posts`.`x` (`a`) VALUES (1);"},
        {"other database", kPrelude + "INSERT INTO `db`.`wp_posts` (`a`) VALUES (1);"},
        {"unquoted table name", kPrelude + "INSERT INTO wp_posts (`a`) VALUES (1);"},
        {"second statement", kPrelude + ins + "(1,2); DROP TABLE x;"},
        {"versioned comment", kPrelude + "/*!50000 DROP TABLE x*/;"},
        {"versioned comment without version", kPrelude + "/*! DROP TABLE x */;"},
        {"MariaDB executable comment", kPrelude + "/*M!100100 DROP TABLE x */;"},
        {"versioned comment inside statement", kPrelude + ins + "(1,2) /*!50000 , (3,4) */;"},
        {"plain comment inside statement", kPrelude + "INSERT INTO `wp_posts` /* x */ (`a`) VALUES (1);"},
        {"nested comment", kPrelude + "/* x /*!50000 DROP TABLE y */ */"},
        {"line comment inside statement", kPrelude + ins + "(1,2) -- x\n;"},
        {"hash comment", kPrelude + "# DROP TABLE x\n"},
        {"--x is not a comment", kPrelude + "--x\nDROP TABLE x;"},
        {"--- is not a comment", kPrelude + "---\n"},
        {"-- then statement on next line", kPrelude + "--DROP TABLE x;\n"},
        {"UPDATE", kPrelude + "UPDATE `wp_posts` SET a=1;"},
        {"DELETE", kPrelude + "DELETE FROM `wp_posts`;"},
        {"GRANT", kPrelude + "GRANT ALL ON *.* TO 'x'@'%';"},
        {"SELECT", kPrelude + "SELECT 1;"},
        {"LOAD DATA", kPrelude + "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE `wp_posts`;"},
        {"ALTER", kPrelude + "ALTER TABLE `wp_posts` ADD COLUMN x int;"},
        {"TRUNCATE", kPrelude + "TRUNCATE TABLE `wp_posts`;"},
        {"RENAME", kPrelude + "RENAME TABLE `wp_posts` TO `x`;"},
        {"REPLACE", kPrelude + "REPLACE INTO `wp_posts` (`a`) VALUES (1);"},
        {"CALL", kPrelude + "CALL p();"},
        {"USE", kPrelude + "USE mysql;"},
        {"SET GLOBAL", kPrelude + "SET GLOBAL general_log=1;"},
        {"SET system variable", kPrelude + "SET @@session.sql_log_bin=0;"},
        {"SET user variable", kPrelude + "SET @a=1;"},
        {"SET PASSWORD", kPrelude + "SET PASSWORD = PASSWORD('x');"},
        {"SET other sql_mode", kPrelude + "SET sql_mode='NO_BACKSLASH_ESCAPES';"},
        {"SET sql_mode with more", kPrelude + "SET sql_mode='NO_AUTO_VALUE_ON_ZERO', sql_log_bin=0;"},
        {"SET NAMES other", kPrelude + "SET NAMES gbk;"},
        {"SET time_zone other", kPrelude + "SET time_zone='SYSTEM';"},
        {"SET foreign_key_checks=1", kPrelude + "SET foreign_key_checks=1;"},
        {"SET unique_checks=01", kPrelude + "SET unique_checks=01;"},
        {"CREATE TABLE SELECT", kHeader + "CREATE TABLE `wp_posts` SELECT * FROM `wp_users`;"},
        {"CREATE TABLE (..) SELECT", kHeader + "CREATE TABLE `wp_posts` (`a` int) SELECT * FROM `wp_users`;"},
        {"CREATE TABLE (..) AS SELECT", kHeader + "CREATE TABLE `wp_posts` (`a` int) AS SELECT 1;"},
        {"CREATE TABLE (..) IGNORE SELECT", kHeader + "CREATE TABLE `wp_posts` (`a` int) IGNORE SELECT 1;"},
        {"CREATE TABLE LIKE", kHeader + "CREATE TABLE `wp_posts` LIKE `wp_users`;"},
        {"CREATE TABLE (LIKE)", kHeader + "CREATE TABLE `wp_posts` (LIKE `wp_users`);"},
        {"CREATE TEMPORARY", kHeader + "CREATE TEMPORARY TABLE `wp_posts` (`a` int);"},
        {"CREATE OR REPLACE", kHeader + "CREATE OR REPLACE TABLE `wp_posts` (`a` int);"},
        {"CREATE IF NOT EXISTS", kHeader + "CREATE TABLE IF NOT EXISTS `wp_posts` (`a` int);"},
        {"CREATE VIEW", kHeader + "CREATE VIEW `wp_posts` AS SELECT 1;"},
        {"second CREATE", kPrelude + kCreate + ";"},
        {"FOREIGN KEY", kHeader + "CREATE TABLE `wp_posts` (`a` int, FOREIGN KEY (`a`) REFERENCES `u` (`id`));"},
        {"CONSTRAINT FOREIGN KEY",
         kHeader + "CREATE TABLE `wp_posts` (`a` int, CONSTRAINT `f` FOREIGN KEY (`a`) REFERENCES `u` (`id`));"},
        {"column REFERENCES", kHeader + "CREATE TABLE `wp_posts` (`a` int REFERENCES `u` (`id`));"},
        {"subquery in CHECK", kHeader + "CREATE TABLE `wp_posts` (`a` int CHECK (`a` IN (SELECT 1)));"},
        {"LOAD_FILE in default", kHeader + "CREATE TABLE `wp_posts` (`a` text DEFAULT (LOAD_FILE('/etc/passwd')));"},
        {"sequence in default", kHeader + "CREATE TABLE `wp_posts` (`a` int DEFAULT NEXTVAL(`s`));"},
        {"NEXT VALUE FOR", kHeader + "CREATE TABLE `wp_posts` (`a` int DEFAULT (NEXT VALUE FOR `s`));"},
        {"variable in default", kHeader + "CREATE TABLE `wp_posts` (`a` int DEFAULT (@x));"},
        {"comment in CREATE", kHeader + "CREATE TABLE `wp_posts` (`a` int /*!50000 , b int */);"},
        {"DATA DIRECTORY", kHeader + "CREATE TABLE `wp_posts` (`a` int) DATA DIRECTORY='/tmp';"},
        {"INDEX DIRECTORY", kHeader + "CREATE TABLE `wp_posts` (`a` int) ENGINE=MyISAM INDEX DIRECTORY='/tmp';"},
        {"ENGINE=CONNECT",
         kHeader + "CREATE TABLE `wp_posts` (`a` text) ENGINE=CONNECT TABLE_TYPE=DOS FILE_NAME='/etc/passwd';"},
        {"ENGINE=MERGE", kHeader + "CREATE TABLE `wp_posts` (`a` int) ENGINE=MERGE UNION=(`wp_users`);"},
        {"ENGINE=MRG_MyISAM", kHeader + "CREATE TABLE `wp_posts` (`a` int) ENGINE=MRG_MyISAM;"},
        {"ENGINE=FEDERATED",
         kHeader + "CREATE TABLE `wp_posts` (`a` int) ENGINE=FEDERATED CONNECTION='mysql://u@h/db/t';"},
        {"ENGINE=SPIDER", kHeader + "CREATE TABLE `wp_posts` (`a` int) ENGINE=SPIDER;"},
        {"ENGINE=BLACKHOLE", kHeader + "CREATE TABLE `wp_posts` (`a` int) ENGINE=BLACKHOLE;"},
        {"ENGINE quoted", kHeader + "CREATE TABLE `wp_posts` (`a` int) ENGINE='CONNECT';"},
        {"ENGINE in body", kHeader + "CREATE TABLE `wp_posts` (`a` int ENGINE=CONNECT);"},
        {"PARTITION BY", kHeader + "CREATE TABLE `wp_posts` (`a` int) PARTITION BY HASH(`a`) PARTITIONS 2;"},
        {"unknown table option", kHeader + "CREATE TABLE `wp_posts` (`a` int) ENCRYPTED=YES;"},
        {"UNION option", kHeader + "CREATE TABLE `wp_posts` (`a` int) UNION=(`x`);"},
        {"CONNECTION option", kHeader + "CREATE TABLE `wp_posts` (`a` int) CONNECTION='x';"},
        {"unbalanced body", kHeader + "CREATE TABLE `wp_posts` (`a` int;"},
        {"INSERT before CREATE", kHeader + "INSERT INTO `wp_posts` (`a`) VALUES (1);" + kCreate + ";"},
        {"INSERT SELECT", kPrelude + "INSERT INTO `wp_posts` (`a`) SELECT `a` FROM `wp_users`;"},
        {"INSERT without columns", kPrelude + "INSERT INTO `wp_posts` VALUES (1);"},
        {"INSERT SET", kPrelude + "INSERT INTO `wp_posts` SET `a`=1;"},
        {"INSERT IGNORE", kPrelude + "INSERT IGNORE INTO `wp_posts` (`a`) VALUES (1);"},
        {"INSERT ON DUPLICATE KEY", kPrelude + ins + "(1,2) ON DUPLICATE KEY UPDATE `a`=(SELECT 1);"},
        {"INSERT RETURNING", kPrelude + ins + "(1,2) RETURNING `a`;"},
        {"subquery value", kPrelude + ins + "(1, (SELECT `user_pass` FROM `wp_users` LIMIT 1));"},
        {"LOAD_FILE value", kPrelude + ins + "(1, LOAD_FILE('/etc/passwd'));"},
        {"function value", kPrelude + ins + "(1, CONCAT('a','b'));"},
        {"NOW()", kPrelude + ins + "(1, NOW());"},
        {"arithmetic", kPrelude + ins + "(1, 1+1);"},
        {"variable value", kPrelude + ins + "(1, @a);"},
        {"system variable value", kPrelude + ins + "(1, @@version);"},
        {"DEFAULT value", kPrelude + ins + "(1, DEFAULT);"},
        {"TRUE", kPrelude + ins + "(1, TRUE);"},
        {"adjacent strings", kPrelude + ins + "(1, 'a' 'b');"},
        {"string then hex", kPrelude + ins + "(1, 'a' 0x41);"},
        {"other introducer", kPrelude + ins + "(1, _latin1'a');"},
        {"_binary hex", kPrelude + ins + "(1, _binary 0x41);"},
        {"N string", kPrelude + ins + "(1, N'a');"},
        {"empty 0x", kPrelude + ins + "(1, 0x);"},
        {"bad hex digit", kPrelude + ins + "(1, 0x4G);"},
        {"0X upper", kPrelude + ins + "(1, 0X41);"},
        {"odd X''", kPrelude + ins + "(1, X'414');"},
        {"bad b''", kPrelude + ins + "(1, b'012');"},
        {"double minus", kPrelude + ins + "(1, --1);"},
        {"plus sign", kPrelude + ins + "(1, +1);"},
        {"leading dot", kPrelude + ins + "(1, .5);"},
        {"trailing dot", kPrelude + ins + "(1, 5.);"},
        {"bare exponent", kPrelude + ins + "(1, 1e);"},
        {"number then word", kPrelude + ins + "(1, 12abc);"},
        {"NULL then word", kPrelude + ins + "(1, NULLx);"},
        {"identifier value", kPrelude + ins + "(1, `a`);"},
        {"too few values", kPrelude + ins + "(1);"},
        {"too many values", kPrelude + ins + "(1,2,3);"},
        {"empty row", kPrelude + ins + "();"},
        {"trailing comma", kPrelude + ins + "(1,2),;"},
        {"no rows", kPrelude + ins + ";"},
        {"unterminated string at end of file", kPrelude + ins + "(1, 'abc);\n"},
        {"unterminated string escaping its quote", kPrelude + ins + "(1, 'abc\\');"},
        {"missing semicolon", kPrelude + ins + "(1, 2)"},
        {"unterminated comment", kPrelude + "/* never closed"},
        {"empty statement", kPrelude + ";"},
        {"no CREATE TABLE at all", kHeader},
        {"garbage", kPrelude + "\x01\x02;"},
    };
    for (auto& [why, file] : cases) expect_refused(file, why);
}

TEST(SqlParse, StatementSizeIsBounded) {
    std::string f = kPrelude + "INSERT INTO `wp_posts` (`a`) VALUES ('" + std::string(5000, 'x') + "');\n";
    EXPECT_NO_THROW(parse(f, {100}, nullptr, "wp_posts", "t", 8000));
    EXPECT_THROW(parse(f, {100}, nullptr, "wp_posts", "t", 4000), Error);
}

TEST(SqlParse, ErrorsNameTheLine) {
    std::string f = kPrelude + "\n\nINSERT INTO `wp_posts` (`a`) VALUES\n(1),\n(2, 3);\n";
    uint64_t line = 1;
    for (char c : kPrelude) line += c == '\n';
    try {
        parse(f);
        FAIL() << "accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("line " + std::to_string(line + 4) + ":", 0), 0u) << e.what();
    }
}

TEST(SqlParse, AcceptsOptionalFormsOfComments) {
    std::string f = "--\n-- \tx\n--\t\n/**/\n/* multi\nline * / ** */\n/*+ hint-like */\n" + kPrelude +
                    "INSERT INTO `wp_posts` (`a`) VALUES (1);\n--";
    Parsed r = parse(f, {3});
    EXPECT_EQ(r.rows, 1u);
}

namespace {
class Replacer : public ValueTransform {
public:
    std::vector<std::string> seen_columns;
    bool transform(std::string_view column, std::string& value) override {
        seen_columns.emplace_back(column);
        size_t pos = value.find("old.example");
        if (pos == std::string::npos) return false;
        // Needs escaping when re-emitted: quote, backslash, newline, NUL.
        value.replace(pos, 11, std::string("new'\\\"ex\nample") + '\0' + ".com");
        return true;
    }
};
}  // namespace

TEST(SqlParse, ValueTransformReescapesChangedValuesOnly) {
    Replacer t;
    const std::string file = make_file();
    Parsed plain = parse(file);
    Parsed r = parse(file, {5}, &t);
    EXPECT_EQ(r.changed, 3u);
    EXPECT_EQ(r.checksum, plain.checksum);  // the checksum covers the file as written
    EXPECT_EQ(r.rows, plain.rows);
    ASSERT_EQ(r.statements.size(), 3u);
    EXPECT_EQ(r.statements[0].sql, plain.statements[0].sql);
    // Row 1: guid changed; hex and the tricky content are untouched. Row 2: guid changed; _binary not offered.
    const std::string repl = "new\\'\\\\\"ex\\nample\\0.com";
    EXPECT_EQ(r.statements[1].sql,
              "INSERT INTO `tmp_posts` (`ID`,`post_content`,`guid`,`bin`,`j`) VALUES "
              "(1,'Hello \\'world\\'; DROP TABLE x; -- ','https://" + repl + "/?p=1',0x00ff27,'{\"a\":1}'),"
              "(2,'line\\nbreak \\\\ back\\\\slash \\0 nul \\Z ctrl','http://" + repl + "/x',_binary 'ab\\'c',NULL)");
    EXPECT_NE(r.statements[2].sql.find("(5,'a\\%b\\_c','" + repl + "',0x41,12.50)"), std::string::npos)
        << r.statements[2].sql;
    // Offered: every quoted string (not hex, _binary, b'', numbers or NULL), with its column name.
    std::vector<std::string> want = {"post_content", "guid", "j", "post_content", "guid",
                                     "post_content", "guid", "j", "post_content", "guid",
                                     "post_content", "guid"};
    EXPECT_EQ(t.seen_columns, want);
    // The re-emitted statements still parse as valid table-file SQL.
    std::string again = kPrelude;
    for (size_t i = 1; i < r.statements.size(); ++i) {
        std::string sql = r.statements[i].sql;
        sql.replace(0, std::string("INSERT INTO `tmp_posts`").size(), "INSERT INTO `wp_posts`");
        again += sql + ";\n";
    }
    Parsed r2 = parse(again, {1});
    EXPECT_EQ(r2.rows, r.rows);
}

namespace {
// Changes binary values only: "A" and "ab'c" get new bytes that need escaping.
class BinarySwap : public ValueTransform {
public:
    std::vector<std::string> seen;
    bool transform(std::string_view, std::string&) override { return false; }
    bool transform_binary(std::string_view column, std::string& value) override {
        seen.push_back(std::string(column) + "=" + value);
        if (value == "A") {
            value = std::string("Z\0'\\", 4);
            return true;
        }
        if (value == "ab'c") {
            value = "new\\'x";
            return true;
        }
        return false;
    }
};
}  // namespace

TEST(SqlParse, BinaryTransformSeesHexAndBinaryStringsAndWritesThemBackInKind) {
    BinarySwap t;
    const std::string file = make_file();
    const Parsed plain = parse(file);
    const Parsed r = parse(file, {3}, &t);
    EXPECT_EQ(r.changed, 2u);
    EXPECT_EQ(r.checksum, plain.checksum);
    // 0x..., X'...' and _binary '...' are offered, decoded, with their column; b'...' (BIT) is not.
    const std::vector<std::string> want = {std::string("bin=\0\xff'", 7), "bin=ab'c", "bin=\xde\xad\xbe\xef", "bin=A"};
    EXPECT_EQ(t.seen, want);
    EXPECT_NE(r.statements[1].sql.find(",_binary 'new\\\\\\'x',NULL)"), std::string::npos) << r.statements[1].sql;
    EXPECT_NE(r.statements[1].sql.find(",0x00ff27,"), std::string::npos) << r.statements[1].sql;
    EXPECT_NE(r.statements[2].sql.find("(5,'a\\%b\\_c','old.example',0x5a00275c,12.50)"), std::string::npos)
        << r.statements[2].sql;
    EXPECT_NE(r.statements[2].sql.find("X'DEADbeef'"), std::string::npos) << r.statements[2].sql;

    // An odd number of hex digits means a leading zero, as the server reads it.
    BinarySwap odd;
    parse(kPrelude + "INSERT INTO `wp_posts` (`a`) VALUES (0x141);\n", {}, &odd);
    EXPECT_EQ(odd.seen, std::vector<std::string>{"a=\x01" "A"});
}

TEST(SqlParse, NoInputAfterAnError) {
    TableFileParser p("wp_posts", "t", [](ParsedStatement&&) {});
    const std::string bad = kPrelude + "DELETE FROM `wp_posts`;\n";
    EXPECT_THROW(p.feed(bad.data(), bad.size()), Error);
    const std::string more = "-- nothing\n";
    EXPECT_THROW(p.feed(more.data(), more.size()), Error);
    EXPECT_THROW(p.finish(), Error);
}

TEST(SqlParse, FileWithoutRowsHasTheEmptyChecksum) {
    Parsed r = parse(kPrelude);
    EXPECT_EQ(r.rows, 0u);
    EXPECT_EQ(r.checksum, sha256_hex(""));
    ASSERT_EQ(r.statements.size(), 1u);
}

// An INSERT longer than 256 KiB is handed on as several, cut between rows: together they hold exactly the
// rows of the original, each is a valid INSERT of its own, and the checksum still covers the file as written.
TEST(SqlParse, LongInsertsComeOutInPiecesCutBetweenRows) {
    std::vector<std::string> tuples;
    for (size_t i = 0; i < 6000; ++i) tuples.push_back(kTuples[i % kTuples.size()]);
    tuples.push_back("(6,'" + std::string(300000, 'x') + "','old.example',NULL,NULL)");  // one row over the size
    tuples.push_back("(7,'after the long row','old.example',NULL,NULL)");
    const std::string file = make_file(tuples);
    const std::string head = "INSERT INTO `tmp_posts` (`ID`,`post_content`,`guid`,`bin`,`j`) VALUES (";
    for (bool transformed : {false, true}) {
        Replacer t;
        Parsed r = parse(file, {4093}, transformed ? &t : nullptr);
        EXPECT_EQ(r.rows, tuples.size());
        EXPECT_EQ(r.checksum, expected_checksum(tuples));
        ASSERT_GE(r.statements.size(), 5u);  // CREATE, the short INSERT, and three or more pieces
        uint64_t rows = 0;
        std::string again = kPrelude;
        for (size_t i = 1; i < r.statements.size(); ++i) {
            const ParsedStatement& st = r.statements[i];
            EXPECT_EQ(st.kind, StatementKind::insert);
            EXPECT_EQ(st.sql.compare(0, head.size(), head), 0) << st.sql.substr(0, 200);
            EXPECT_EQ(st.sql.back(), ')');
            // A piece ends with the row that took it over 256 KiB (here at most the 300 KB row).
            EXPECT_LT(st.sql.size(), (256u << 10) + 310000u);
            EXPECT_GT(st.rows, 0u);
            rows += st.rows;
            std::string sql = st.sql;
            sql.replace(0, std::string("INSERT INTO `tmp_posts`").size(), "INSERT INTO `wp_posts`");
            again += sql + ";\n";
        }
        EXPECT_EQ(rows, tuples.size());
        // Parsed again, the pieces give the same rows: byte for byte the same when nothing was transformed.
        Parsed r2 = parse(again, {65536});
        EXPECT_EQ(r2.rows, tuples.size());
        if (transformed) {
            EXPECT_EQ(r.changed, 6000u / 5u * 3u + 2u);
        } else {
            EXPECT_EQ(r2.checksum, r.checksum);
        }
    }
}
