// Work-folder helpers: the buffer reserved for a received part.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "workdir.hpp"

namespace sitelift {
namespace {

// A part's buffer is reserved once, at its full size, and filling it never moves it (a move would hold the
// part twice for a moment). Sizes below, at and above the 2 MiB huge-page granule.
TEST(ReserveLarge, HoldsTheWholeBodyWithoutMoving) {
    for (size_t n : {size_t(1), size_t(64u << 10), size_t(2u << 20), size_t((8u << 20) + 4096 + 7)}) {
        std::string s;
        reserve_large(s, n);
        ASSERT_GE(s.capacity(), n);
        EXPECT_TRUE(s.empty());
        const char* before = s.data();
        for (size_t i = 0; i < n; i += 4096)
            s.append(std::min<size_t>(4096, n - i), static_cast<char>('a' + (i / 4096) % 26));
        EXPECT_EQ(s.size(), n);
        EXPECT_EQ(s.data(), before) << "moved while filling " << n << " bytes";
        EXPECT_EQ(s[n - 1], static_cast<char>('a' + ((n - 1) / 4096) % 26));
    }
}

}  // namespace
}  // namespace sitelift
