// Tests for path validation, SafeTree, remove_tree and glob_match.
#include "error.hpp"
#include "path_safety.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace sitelift;

namespace {

using sitelift::test_support::TempDir;

bool exists_nofollow(const std::string& p) {
    struct stat st;
    return lstat(p.c_str(), &st) == 0;
}

template <class F>
ErrorKind kind_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.kind();
    }
    return ErrorKind::state;  // "nothing thrown" (no test expects state)
}

void touch(const std::string& p, const std::string& data = "x") {
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << p;
    ASSERT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    ::close(fd);
}

size_t count_entries(const std::string& dir) {
    size_t n = 0;
    for (auto it = std::filesystem::directory_iterator(dir); it != std::filesystem::directory_iterator(); ++it) ++n;
    return n;
}

// ---- safe_relative_path ---------------------------------------------------------------------------------------

TEST(SafeRelativePath, AcceptsAndCanonicalises) {
    struct Case {
        std::string in, out;
    } cases[] = {
        {"a", "a"},
        {"a/b/c", "a/b/c"},
        {"./a", "a"},
        {".//a", "a"},
        {"a//b", "a/b"},
        {"a///b//", "a/b"},
        {"a/b/", "a/b"},
        {"...", "..."},
        {"..a/b..", "..a/b.."},
        {"a/.hidden", "a/.hidden"},
        {" ", " "},
        {"sp ace/new\nline", "sp ace/new\nline"},
        {"\xff\xfe", "\xff\xfe"},
        {"a\\..\\b", "a\\..\\b"},  // backslash is an ordinary character
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.in);
        EXPECT_EQ(safe_relative_path(c.in), c.out);
    }
    std::string max(4096, 'x');
    EXPECT_EQ(safe_relative_path(max), max);
}

TEST(SafeRelativePath, Rejects) {
    std::vector<std::string> bad = {
        "",          "/",        "/etc",     "/etc/passwd", "..",     "../a",   "a/..",     "a/../b", "a/b/../../..",
        ".",         "./",       "././a",    "a/.",         "a/./b",  ".//.",   "//a",      "./..",   "./../x",
        std::string("a\0b", 3),  std::string("\0", 1),      std::string(4097, 'x'),
    };
    for (const auto& p : bad) {
        SCOPED_TRACE(display_path(p));
        EXPECT_EQ(kind_of([&] { safe_relative_path(p); }), ErrorKind::security);
    }
}

// ---- symlink_target_escapes -----------------------------------------------------------------------------------

TEST(SymlinkTargetEscapes, Table) {
    struct Case {
        std::string link, target;
        bool escapes;
    } cases[] = {
        {"a", "b", false},
        {"a", "./b", false},
        {"a", ".", false},
        {"a", "..", true},
        {"a", "../b", true},
        {"a", "a/../..", true},
        {"a", "a/..", false},
        {"a", "/etc", true},
        {"a", "/", true},
        {"a", "", true},
        {"a", std::string("b\0c", 3), true},
        {"sub/x", "../y", false},
        {"sub/x", "..", false},
        {"sub/x", "../..", true},
        {"sub/x", "../../y", true},
        {"sub/x", "y/../../z", false},
        {"sub/x", "y/../../../z", true},
        {"sub/x", "./../y", false},
        {"sub/x", "y//z/", false},
        {"a/b/c/link", "../../../x", false},
        {"a/b/c/link", "../../../../x", true},
        {"./sub//x", "../y", false},  // link path is canonicalised first
        {"../x", "y", true},          // an unsafe link path always "escapes"
        {"/abs", "y", true},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(display_path(c.link) + " -> " + display_path(c.target));
        EXPECT_EQ(symlink_target_escapes(c.link, c.target), c.escapes);
    }
}

TEST(DisplayPath, EscapesWhatIsNotPrintableUtf8) {
    EXPECT_EQ(display_path("plain/caf\xc3\xa9"), "plain/caf\xc3\xa9");
    EXPECT_EQ(display_path("bad\xff\xfe"), "bad\\xff\\xfe");
    EXPECT_EQ(display_path("new\nline\\"), "new\\x0aline\\x5c");
    EXPECT_EQ(display_path("cesu\xed\xa0\x80"), "cesu\\xed\\xa0\\x80");
    EXPECT_EQ(display_path(std::string("nul\0", 4)), "nul\\x00");
    std::string longp(1000, 'a');
    EXPECT_EQ(display_path(longp), std::string(300, 'a') + "...");
}

// ---- SafeTree ------------------------------------------------------------------------------------------------

TEST(SafeTree, CreatesFoldersFilesAndModes) {
    TempDir dir;
    SafeTree tree(dir.path);
    EXPECT_EQ(tree.root(), dir.path);
    tree.make_dir("a/b/c", 02750);
    struct stat st;
    ASSERT_EQ(stat((dir / "a/b/c").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 02750u);
    tree.make_dir("a/b/c", 0700);  // existing: fine, mode set
    ASSERT_EQ(stat((dir / "a/b/c").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    tree.make_dir("./x//y/", 0755);
    EXPECT_TRUE(exists_nofollow(dir / "x/y"));

    int fd = tree.create_file("new/parents/file.txt", 0666);  // umask does not apply
    ASSERT_GE(fd, 0);
    EXPECT_EQ(::write(fd, "hello", 5), 5);
    ASSERT_EQ(fstat(fd, &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0666u);
    EXPECT_NE(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    ::close(fd);
    // Exists already: refused.
    EXPECT_EQ(kind_of([&] { ::close(tree.create_file("new/parents/file.txt", 0644)); }), ErrorKind::io);
    // A file where a folder is needed.
    EXPECT_EQ(kind_of([&] { tree.make_dir("new/parents/file.txt/sub", 0755); }), ErrorKind::io);
    EXPECT_EQ(kind_of([&] { tree.make_dir("new/parents/file.txt", 0755); }), ErrorKind::io);

    fd = tree.create_file("modes/suid", 04755);
    ASSERT_GE(fd, 0);
    ::close(fd);
    ASSERT_EQ(stat((dir / "modes/suid").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 04755u);
    tree.set_mode("modes/suid", 0600);
    ASSERT_EQ(stat((dir / "modes/suid").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);

    tree.set_times("modes/suid", 1600000000, 123456789);
    ASSERT_EQ(lstat((dir / "modes/suid").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 1600000000);
    EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
    tree.set_times("a/b/c", -5, 0);  // before 1970 is fine
    ASSERT_EQ(lstat((dir / "a/b/c").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, -5);
    EXPECT_EQ(kind_of([&] { tree.set_times("a", 1, 1000000000); }), ErrorKind::usage);
    EXPECT_EQ(kind_of([&] { tree.set_times("missing", 1, 0); }), ErrorKind::io);
    EXPECT_EQ(kind_of([&] { tree.set_mode("missing/x", 0644); }), ErrorKind::io);

    // Unsafe paths are refused everywhere.
    for (const char* bad : {"../x", "/etc/x", "a/../x", "", "a/./b"}) {
        SCOPED_TRACE(bad);
        EXPECT_EQ(kind_of([&] { tree.make_dir(bad, 0755); }), ErrorKind::security);
        EXPECT_EQ(kind_of([&] { ::close(tree.create_file(bad, 0644)); }), ErrorKind::security);
        EXPECT_EQ(kind_of([&] { tree.make_symlink(bad, "x"); }), ErrorKind::security);
        EXPECT_EQ(kind_of([&] { tree.set_times(bad, 1, 0); }), ErrorKind::security);
        EXPECT_EQ(kind_of([&] { tree.set_mode(bad, 0644); }), ErrorKind::security);
    }
    EXPECT_EQ(kind_of([&] { SafeTree t2(dir / "does-not-exist"); }), ErrorKind::io);
    EXPECT_EQ(kind_of([&] { SafeTree t3(dir / "new/parents/file.txt"); }), ErrorKind::io);
}

TEST(SafeTree, Symlinks) {
    TempDir dir;
    std::string root = dir / "root";
    std::string outside = dir / "outside";
    ASSERT_EQ(mkdir(root.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(outside.c_str(), 0755), 0);
    SafeTree tree(root);

    EXPECT_EQ(kind_of([&] { tree.make_symlink("d", ".."); }), ErrorKind::security);
    EXPECT_EQ(kind_of([&] { tree.make_symlink("d", "/etc"); }), ErrorKind::security);
    EXPECT_EQ(kind_of([&] { tree.make_symlink("sub/d", "../../x"); }), ErrorKind::security);
    EXPECT_EQ(kind_of([&] { tree.make_symlink("d", ""); }), ErrorKind::security);
    EXPECT_FALSE(exists_nofollow(root + "/d"));

    tree.make_symlink("sub/ok", "../target");
    char buf[64];
    ssize_t n = readlink((root + "/sub/ok").c_str(), buf, sizeof buf);
    ASSERT_EQ(n, 9);
    EXPECT_EQ(std::string(buf, 9), "../target");
    // A step that runs again (a finalize cut short) finds its own link: the same link is done; any other
    // link, or a file or folder, in its place is an archive that holds two things of one name: refused.
    tree.make_symlink("sub/ok", "../target");
    auto refusal = [](auto&& f) -> std::string {
        try {
            f();
        } catch (const Error& e) {
            return e.kind() == ErrorKind::security ? e.what() : "wrong kind: " + std::string(e.what());
        }
        return "no error";
    };
    EXPECT_EQ(refusal([&] { tree.make_symlink("sub/ok", "../other"); }),
              "symlink 'sub/ok' collides with another symlink of the same name in the archive");
    EXPECT_NE(refusal([&] { tree.make_symlink("sub/ok", "../targe"); }).find("collides"), std::string::npos);
    EXPECT_NE(refusal([&] { tree.make_symlink("sub/ok", "x"); }).find("collides"), std::string::npos);
    close(tree.create_file("sub/plain", 0644));
    EXPECT_EQ(refusal([&] { tree.make_symlink("sub/plain", "../target"); }),
              "symlink 'sub/plain' collides with a file or folder of the same name in the archive");
    tree.make_dir("sub/dir", 0755);
    EXPECT_NE(refusal([&] { tree.make_symlink("sub/dir", "../target"); }).find("a file or folder"), std::string::npos);

    // A symlink made by someone else, pointing outside: nothing may go through it.
    ASSERT_EQ(symlink(outside.c_str(), (root + "/evil").c_str()), 0);
    EXPECT_EQ(kind_of([&] { ::close(tree.create_file("evil/x", 0644)); }), ErrorKind::security);
    EXPECT_EQ(kind_of([&] { tree.make_dir("evil/y", 0755); }), ErrorKind::security);
    EXPECT_EQ(kind_of([&] { tree.make_dir("evil/y/z", 0755); }), ErrorKind::security);
    EXPECT_EQ(kind_of([&] { tree.make_symlink("evil/l", "x"); }), ErrorKind::security);
    EXPECT_EQ(kind_of([&] { tree.make_dir("evil", 0755); }), ErrorKind::security);
    EXPECT_EQ(kind_of([&] { ::close(tree.create_file("evil", 0644)); }), ErrorKind::security);
    EXPECT_EQ(count_entries(outside), 0u);

    // Even a symlink that stays inside the tree is never a parent.
    tree.make_dir("real", 0755);
    tree.make_symlink("alias", "real");
    EXPECT_EQ(kind_of([&] { ::close(tree.create_file("alias/x", 0644)); }), ErrorKind::security);
    EXPECT_EQ(kind_of([&] { tree.set_times("alias/x", 1, 0); }), ErrorKind::security);
    EXPECT_EQ(count_entries(root + "/real"), 0u);

    // Relative symlink created manually that climbs out.
    ASSERT_EQ(symlink("../outside", (root + "/climb").c_str()), 0);
    EXPECT_EQ(kind_of([&] { ::close(tree.create_file("climb/x", 0644)); }), ErrorKind::security);
    EXPECT_EQ(count_entries(outside), 0u);

    // Times and modes of a symlink itself; the target is left alone.
    touch(root + "/real/f");
    ASSERT_EQ(chmod((root + "/real/f").c_str(), 0640), 0);
    tree.make_symlink("real/l", "f");
    struct stat before;
    ASSERT_EQ(stat((root + "/real/f").c_str(), &before), 0);
    tree.set_times("real/l", 1500000000, 7);
    tree.set_mode("real/l", 0777);  // no-op on a link
    struct stat st;
    ASSERT_EQ(lstat((root + "/real/l").c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode));
    EXPECT_EQ(st.st_mtim.tv_sec, 1500000000);
    EXPECT_EQ(st.st_mtim.tv_nsec, 7);
    ASSERT_EQ(stat((root + "/real/f").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, before.st_mtim.tv_sec);
    EXPECT_EQ(st.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    // And through the outside link: set_mode on "evil" changes only the link (nothing), not outside.
    ASSERT_EQ(chmod(outside.c_str(), 0755), 0);
    tree.set_mode("evil", 0700);
    ASSERT_EQ(stat(outside.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    tree.set_times("evil", 1, 0);
    ASSERT_EQ(stat(outside.c_str(), &st), 0);
    EXPECT_NE(st.st_mtim.tv_sec, 1);
}

TEST(SafeTree, ResolvesInside) {
    TempDir dir;
    std::string root = dir / "root";
    ASSERT_EQ(mkdir(root.c_str(), 0755), 0);
    SafeTree tree(root);
    tree.make_dir("sub", 0755);
    tree.make_symlink("sub/a", "..");      // the root: lexically and physically inside
    tree.make_symlink("e", "sub/a/..");    // lexically "sub", physically above the root
    EXPECT_FALSE(symlink_target_escapes("e", "sub/a/.."));
    EXPECT_TRUE(tree.resolves_inside("sub/a"));
    EXPECT_TRUE(tree.resolves_inside("sub/a/sub/a/sub"));
    EXPECT_FALSE(tree.resolves_inside("e"));
    EXPECT_FALSE(tree.resolves_inside("e/x"));
    EXPECT_FALSE(tree.resolves_inside("sub/a/.."));
    EXPECT_TRUE(tree.resolves_inside("sub/.."));
    EXPECT_TRUE(tree.resolves_inside(""));
    EXPECT_TRUE(tree.resolves_inside("sub"));
    EXPECT_TRUE(tree.resolves_inside("missing/x/y"));
    EXPECT_TRUE(tree.resolves_inside("missing/../sub/a"));
    EXPECT_FALSE(tree.resolves_inside("missing/../../x"));
    EXPECT_FALSE(tree.resolves_inside("missing/../sub/a/.."));  // back on real ground: links followed again
    EXPECT_FALSE(tree.resolves_inside(".."));
    EXPECT_FALSE(tree.resolves_inside("/etc"));
    EXPECT_FALSE(tree.resolves_inside(std::string("sub\0x", 5)));

    // Chains and loops.
    tree.make_symlink("c1", "c2");
    tree.make_symlink("c2", "sub/c3");
    tree.make_symlink("sub/c3", "../sub");
    EXPECT_TRUE(tree.resolves_inside("c1"));
    EXPECT_TRUE(tree.resolves_inside("c1/a/c1/x"));
    tree.make_symlink("loop1", "loop2");
    tree.make_symlink("loop2", "loop1");
    EXPECT_FALSE(tree.resolves_inside("loop1"));
    EXPECT_FALSE(tree.resolves_inside("loop1/x"));

    // Links made by someone else.
    ASSERT_EQ(symlink("/tmp", (root + "/abs").c_str()), 0);
    EXPECT_FALSE(tree.resolves_inside("abs"));
    EXPECT_FALSE(tree.resolves_inside("abs/x"));
    ASSERT_EQ(symlink("../..", (root + "/sub/up2").c_str()), 0);
    EXPECT_FALSE(tree.resolves_inside("sub/up2"));
    EXPECT_FALSE(tree.resolves_inside("sub/up2/root/sub"));  // comes back in by name, but went outside
    // A file in the middle: the rest is lexical.
    touch(root + "/file");
    EXPECT_TRUE(tree.resolves_inside("file/x"));
    EXPECT_FALSE(tree.resolves_inside("file/../.."));
}

// ---- remove_tree ---------------------------------------------------------------------------------------------

TEST(RemoveTree, DoesNotFollowSymlinks) {
    TempDir dir;
    std::string victim = dir / "victim";
    std::string outside = dir / "outside";
    ASSERT_EQ(mkdir(outside.c_str(), 0755), 0);
    touch(outside + "/keep.txt", "precious");
    ASSERT_EQ(mkdir((outside + "/keepdir").c_str(), 0755), 0);

    ASSERT_EQ(mkdir(victim.c_str(), 0755), 0);
    SafeTree tree(victim);
    tree.make_dir("a/b/c", 0755);
    ::close(tree.create_file("a/b/c/f1", 0644));
    ::close(tree.create_file("a/f2", 0000));
    tree.make_dir("ro", 0555);
    ::close(tree.create_file("x/y", 0644));
    tree.make_dir("empty", 0);
    ASSERT_EQ(symlink(outside.c_str(), (victim + "/a/link-to-outside").c_str()), 0);
    ASSERT_EQ(symlink((outside + "/keep.txt").c_str(), (victim + "/file-link").c_str()), 0);
    ASSERT_EQ(symlink("dangling", (victim + "/dangling").c_str()), 0);
    ASSERT_EQ(mkfifo((victim + "/fifo").c_str(), 0600), 0);

    remove_tree(victim);
    EXPECT_FALSE(exists_nofollow(victim));
    EXPECT_TRUE(exists_nofollow(outside + "/keep.txt"));
    EXPECT_TRUE(exists_nofollow(outside + "/keepdir"));
    EXPECT_EQ(count_entries(outside), 2u);

    remove_tree(victim);  // missing is fine
    remove_tree(dir / "never/existed");

    // The path itself is a symlink to a folder: only the link goes.
    std::string link = dir / "link";
    ASSERT_EQ(symlink(outside.c_str(), link.c_str()), 0);
    remove_tree(link);
    EXPECT_FALSE(exists_nofollow(link));
    EXPECT_EQ(count_entries(outside), 2u);

    // A plain file.
    touch(dir / "plain");
    remove_tree(dir / "plain");
    EXPECT_FALSE(exists_nofollow(dir / "plain"));
}

TEST(RemoveTree, VeryDeepTree) {
    // Deeper than the open-file limit allows with one descriptor per level (the limit is lowered for the test).
    TempDir dir;
    std::string top = dir / "deep";
    ASSERT_EQ(mkdir(top.c_str(), 0755), 0);
    int fd = ::open(top.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(fd, 0);
    for (int i = 0; i < 400; ++i) {
        ASSERT_EQ(mkdirat(fd, "d", 0755), 0);
        int fd2 = openat(fd, "d", O_RDONLY | O_DIRECTORY);
        ASSERT_GE(fd2, 0);
        if (i % 100 == 0) {
            int f = openat(fd, "file", O_WRONLY | O_CREAT, 0644);
            ASSERT_GE(f, 0);
            ::close(f);
        }
        ::close(fd);
        fd = fd2;
    }
    ::close(fd);
    struct rlimit saved;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
    struct rlimit low = saved;
    low.rlim_cur = 128;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    bool ok = true;
    try {
        remove_tree(top);
    } catch (const Error& e) {
        ok = false;
        ADD_FAILURE() << e.what();
    }
    setrlimit(RLIMIT_NOFILE, &saved);
    EXPECT_TRUE(ok);
    EXPECT_FALSE(exists_nofollow(top));
}

TEST(RemoveTree, WideFolder) {
    TempDir dir;
    std::string top = dir / "wide";
    ASSERT_EQ(mkdir(top.c_str(), 0755), 0);
    for (int i = 0; i < 100; ++i) {
        std::string sub = top + "/s" + std::to_string(i);
        ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
        touch(sub + "/f");
        touch(top + "/f" + std::to_string(i));
    }
    remove_tree(top);
    EXPECT_FALSE(exists_nofollow(top));
}

// ---- glob_match ----------------------------------------------------------------------------------------------

TEST(GlobMatch, Table) {
    struct Case {
        std::string pattern, path;
        bool match;
    } cases[] = {
        // basename patterns match at any depth, and everything below a match
        {"*.log", "debug.log", true},
        {"*.log", "wp-content/debug.log", true},
        {"*.log", "a/b/c/debug.log", true},
        {"*.log", "logs.d/debug.log.1", false},
        {"*.log", "old.log/inside.txt", true},
        {"*.log", "debug.txt", false},
        {"cache", "wp-content/cache/page.html", true},
        {"cache", "wp-content/cache", true},
        {"cache", "wp-content/cached", false},
        {"*", ".htaccess", true},
        {"*", "a/b", true},
        {".git", "plugins/x/.git/config", true},
        // anchored patterns
        {"wp-content/cache", "wp-content/cache", true},
        {"wp-content/cache", "wp-content/cache/a/b.html", true},
        {"wp-content/cache", "a/wp-content/cache", false},
        {"wp-content/cache", "wp-content/cache2", false},
        {"wp-content/*.php", "wp-content/a.php", true},
        {"wp-content/*.php", "wp-content/x/a.php", false},
        {"wp-content/*/cache", "wp-content/plugin/cache/x", true},
        {"wp-content/*/cache", "wp-content/a/b/cache", false},
        {"wp-content/**/cache", "wp-content/a/b/cache", true},
        {"wp-content/**/cache", "wp-content/cache", true},  // ** as a component: zero folders
        {"wp-content/**/*.php", "wp-content/x/y/a.php", true},
        {"wp-content/**/*.php", "wp-content/a.php", true},
        {"wp-content/**/*.php", "wp-content/a.txt", false},
        {"**/node_modules", "node_modules", true},
        {"**/node_modules", "a/b/node_modules/x.js", true},
        {"uploads/**", "uploads/2024/01/a.jpg", true},
        {"uploads/**", "uploads", false},
        {"uploads/*", "uploads", false},
        {"uploads/*", "uploads/x/y", true},
        {"a**b", "a/x/y/b", false},  // no '/': matched per component, where ** is just *
        {"a**b", "axyb", true},
        {"a/**b", "a/x/y/b", true},
        {"**.log", "a/b/c.log", true},
        {"a*b", "a/b", false},
        {"/wp-config.php", "wp-config.php", true},
        {"/wp-config.php", "sub/wp-config.php", false},
        {"./a/b", "a/b", true},
        {"a/", "a/x", true},
        {"a/b", "./a/b", true},
        // single characters and classes
        {"?.txt", "a.txt", true},
        {"?.txt", "ab.txt", false},
        {"a?b", "a/b", false},
        {"a?b", "axb", true},
        {"[abc].txt", "b.txt", true},
        {"[abc].txt", "d.txt", false},
        {"[!abc].txt", "b.txt", false},
        {"[!abc].txt", "d.txt", true},
        {"[^abc].txt", "d.txt", true},
        {"[a-c]x", "bx", true},
        {"[a-c]x", "dx", false},
        {"[]]x", "]x", true},
        {"[!]]x", "]x", false},
        {"x[a/b]y", "x/y", false},
        {"[", "[", true},
        {"[abc", "[abc", true},
        {"\\*", "*", true},
        {"\\*", "a", false},
        {"\\[a]", "[a]", true},
        {"caf\xc3\xa9*", "caf\xc3\xa9-1.jpg", true},
        {"*\xff*", "bad\xff\xfe", true},
        // a literal beginning (checked before the wildcards) and literal patterns (compared as strings)
        {"wp-content/backupwordpress-*", "wp-content/backupwordpress-1a/x.zip", true},
        {"wp-content/backupwordpress-*", "wp-content/backupwordpress-", true},
        {"wp-content/backupwordpress-*", "wp-content/backupwordpress", false},
        {"wp-content/backupwordpress-*", "wp-content/backup", false},
        {"wp-content/cache", "wp-content/cach", false},
        {"wp-content/cache", "wp-content", false},
        {"wp-content/cache", "", false},
        {".git", ".gitignore", false},
        {".git", "a/.git", true},
        {".git", "a/x.git", false},
        {"a\\*b", "a/xb", false},
        {"\\a", "a/b", true},
        {"c?che", "wp-content/cache/x", true},
        // nothing matches an empty pattern
        {"", "a", false},
        {"/", "a", false},
        {"*.PHP", "a.php", false},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE("pattern '" + display_path(c.pattern) + "' path '" + display_path(c.path) + "'");
        EXPECT_EQ(glob_match(c.pattern, c.path), c.match);
    }
}

TEST(GlobMatch, ACompiledPatternAnswersManyPaths) {
    std::vector<GlobPattern> pats;
    for (const char* p : {"wp-content/cache", "*.log", "wp-content/uploads/backwpup-*", "**/node_modules", ""})
        pats.emplace_back(p);
    std::vector<GlobPattern> moved = std::move(pats);  // compiled state moves with the pattern
    const std::vector<std::pair<std::string, std::vector<bool>>> paths = {
        {"wp-content/cache/a.html", {true, false, false, false, false}},
        {"wp-content/uploads/backwpup-9f/a.log", {false, true, true, false, false}},
        {"wp-content/uploads/backwpup", {false, false, false, false, false}},
        {"x/node_modules/y.js", {false, false, false, true, false}},
        {"index.php", {false, false, false, false, false}},
    };
    for (int round = 0; round < 2; ++round) {
        for (const auto& [path, want] : paths) {
            for (size_t i = 0; i < moved.size(); ++i) {
                SCOPED_TRACE("path '" + path + "' pattern " + std::to_string(i));
                EXPECT_EQ(moved[i].matches(path), want[i]);
            }
        }
    }
}

TEST(GlobMatch, PathologicalPatternsStayFast) {
    std::string path(1000, 'a');
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", path));
    EXPECT_FALSE(glob_match("**a**a**a**a**a**a**b", path));
    std::string deep;
    for (int i = 0; i < 500; ++i) deep += "a/";
    deep += "c";
    EXPECT_FALSE(glob_match("**/a/**/a/**/a/**/b", deep));
    EXPECT_TRUE(glob_match("**/a/**/a/**/a/**/c", deep));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(ms, 5000);
}

}  // namespace
