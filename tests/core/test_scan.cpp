// The file walk: its order, and walks that stop and resume (a push lists a big site over several requests).
#include "scan.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "error.hpp"
#include "test_support.hpp"

using namespace sitelift;
using sitelift::test_support::TempDir;
namespace fs = std::filesystem;

namespace {

void touch(const std::string& path, const std::string& content = "x") {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

// A tree whose names sort differently as whole paths than component by component ('-' and '.' come before
// '/'), with empty and deep folders, a symlink and entries the walk leaves out.
void make_tree(const TempDir& d) {
    for (const char* f : {"a/b", "a/b2/c", "a-c", "a.b", "a0", "b", "d/x/y/z/deep.txt", "d/x/y/z2", "d/x-1",
                          "wp-config.php", ".git/HEAD", "wp-content/uploads/2024/01/i.jpg",
                          "wp-content/uploads/2024/01/i-150x150.jpg", "wp-content/uploads/2024/02/j.jpg",
                          "wp-content/cache/page.html", "z"})
        touch(d / f);
    fs::create_directories(d / "e");
    fs::create_directories(d / "d/empty/inner");
    fs::create_symlink("a0", d / "link");
}

std::vector<std::string> walk(const std::string& root, ScanOptions o, bool* complete = nullptr) {
    std::vector<std::string> out;
    bool done = scan_tree(root, o, [&](const ScanEntry& e) { out.push_back(e.path); }, [](const std::string&) {});
    if (complete) *complete = done;
    return out;
}

}  // namespace

TEST(ScanTree, ParentsBeforeChildrenNamesSortedExclusionsLeftOut) {
    TempDir d;
    make_tree(d);
    const std::vector<std::string> all = walk(d.path, ScanOptions{});
    const std::vector<std::string> want = {
        "a", "a/b", "a/b2", "a/b2/c", "a-c", "a.b", "a0", "b", "d", "d/empty", "d/empty/inner", "d/x", "d/x/y",
        "d/x/y/z", "d/x/y/z/deep.txt", "d/x/y/z2", "d/x-1", "e", "link", "wp-content", "wp-content/uploads",
        "wp-content/uploads/2024", "wp-content/uploads/2024/01", "wp-content/uploads/2024/01/i-150x150.jpg",
        "wp-content/uploads/2024/01/i.jpg", "wp-content/uploads/2024/02", "wp-content/uploads/2024/02/j.jpg", "z"};
    EXPECT_EQ(all, want);
}

// Stopped after every k entries and resumed after the last one visited, for every k: the pieces join to the
// whole walk, nothing twice and nothing missing.
TEST(ScanTree, StoppedAnywhereAndResumedJoinsToTheWholeWalk) {
    TempDir d;
    make_tree(d);
    const std::vector<std::string> all = walk(d.path, ScanOptions{});
    ASSERT_GT(all.size(), 20u);
    for (size_t k = 1; k <= all.size() + 1; ++k) {
        SCOPED_TRACE("stop every " + std::to_string(k));
        std::vector<std::string> joined;
        std::string last;
        bool complete = false;
        for (int calls = 0; !complete; ++calls) {
            ASSERT_LT(calls, 100) << "the walk makes no progress";
            ScanOptions o;
            o.resume_after = last;
            size_t seen = 0;
            o.stop = [&seen, k]() { return seen++ >= k; };
            std::vector<std::string> piece = walk(d.path, o, &complete);
            if (!complete) {
                ASSERT_FALSE(piece.empty());
            }
            if (!piece.empty()) last = piece.back();
            joined.insert(joined.end(), piece.begin(), piece.end());
        }
        EXPECT_EQ(joined, all);
    }
}

// The tree may change between two pieces: an entry removed where the walk stopped, a folder that became a
// file, entries added before and after. The walk goes on after the place it stopped, whatever is there now.
TEST(ScanTree, ResumesAfterAnEntryThatIsGoneOrChanged) {
    TempDir d;
    make_tree(d);
    ScanOptions o;
    o.resume_after = "d/x/y";  // a folder: its children come next
    EXPECT_EQ(walk(d.path, o).front(), "d/x/y/z");
    fs::remove_all(d / "d/x/y");
    touch(d / "a/zz");                // before the place: not listed again
    touch(d / "d/x/y0");              // after it: listed
    EXPECT_EQ(walk(d.path, o), (std::vector<std::string>{
                                   "d/x/y0", "d/x-1", "e", "link", "wp-content", "wp-content/uploads",
                                   "wp-content/uploads/2024", "wp-content/uploads/2024/01",
                                   "wp-content/uploads/2024/01/i-150x150.jpg", "wp-content/uploads/2024/01/i.jpg",
                                   "wp-content/uploads/2024/02", "wp-content/uploads/2024/02/j.jpg", "z"}));
    fs::remove_all(d / "d");
    touch(d / "d");  // the folder is a file now: nothing below it
    EXPECT_EQ(walk(d.path, o).front(), "e");
    o.resume_after = "z";
    EXPECT_TRUE(walk(d.path, o).empty());
}

// Content folders that are links out of the root would be left behind by a migration: refused, naming the link.
// Links that stay inside the root, and other links, are fine.
TEST(ScanTree, ContentFoldersLinkedOutsideTheRootAreRefused) {
    TempDir d;
    TempDir elsewhere;
    touch(d / "index.php");
    EXPECT_NO_THROW(refuse_content_linked_outside(d.path));  // no wp-content at all
    touch(d / "media/a.jpg");
    fs::create_directories(d / "wp-content");
    fs::create_symlink("../media", d / "wp-content/uploads");
    fs::create_symlink(elsewhere.path, d / "wp-content/somewhere-else");  // not a content folder
    EXPECT_NO_THROW(refuse_content_linked_outside(d.path));
    fs::create_symlink(elsewhere.path, d / "wp-content/plugins");
    try {
        refuse_content_linked_outside(d.path);
        ADD_FAILURE() << "plugins linked outside the root was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::usage);
        EXPECT_NE(std::string(e.what()).find("'wp-content/plugins' is a link to '" + elsewhere.path + "'"),
                  std::string::npos)
            << e.what();
    }
    fs::remove(d / "wp-content/plugins");
    fs::remove(d / "wp-content/uploads");
    fs::create_symlink("../../media", d / "wp-content/uploads");  // escapes through the root's parent
    EXPECT_THROW(refuse_content_linked_outside(d.path), Error);
}
