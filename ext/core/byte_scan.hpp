// find_any: the first byte of a range that is one of a few given characters, the inner loop of SQL escaping
// and parsing. SSE2 (baseline on x86-64) does 16 bytes a step; elsewhere a portable 8-byte SWAR loop (the lowest
// flagged byte of zero_bytes() is always exact, which is all that is used).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sitelift {
namespace byte_scan {

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

inline uint64_t zero_bytes(uint64_t x) { return (x - kOnes) & ~x & kHighs; }

inline uint64_t load64(const char* p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}

}  // namespace byte_scan

// First byte in [p, end) equal to one of chars (end if none).
template <size_t N>
inline const char* find_any(const char* p, const char* end, const char (&chars)[N]) {
#if defined(__SSE2__)
    __m128i needles[N];
    for (size_t k = 0; k < N; ++k) needles[k] = _mm_set1_epi8(chars[k]);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        __m128i m = _mm_cmpeq_epi8(v, needles[0]);
        for (size_t k = 1; k < N; ++k) m = _mm_or_si128(m, _mm_cmpeq_epi8(v, needles[k]));
        int mask = _mm_movemask_epi8(m);
        if (mask) return p + __builtin_ctz(static_cast<unsigned>(mask));
        p += 16;
    }
#else
    uint64_t needles[N];
    for (size_t k = 0; k < N; ++k) needles[k] = byte_scan::kOnes * static_cast<unsigned char>(chars[k]);
    while (end - p >= 8) {
        uint64_t w = byte_scan::load64(p);
        uint64_t t = 0;
        for (size_t k = 0; k < N; ++k) t |= byte_scan::zero_bytes(w ^ needles[k]);
        if (t) return p + (__builtin_ctzll(t) >> 3);
        p += 8;
    }
#endif
    for (; p < end; ++p)
        for (size_t k = 0; k < N; ++k)
            if (*p == chars[k]) return p;
    return end;
}

}  // namespace sitelift
