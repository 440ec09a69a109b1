/*
 * x86-64 multi-buffer SHA-256 compression. Each function carries its own
 * target attribute so the addon builds with default compiler flags and only
 * runs SIMD code after sha256_impls() has checked the CPU (and OS) support.
 */
#include <string.h>

#include "sha256_batch.h"

#ifdef SHA256_HAVE_X86
#include <immintrin.h>

#define TARGET_AVX2 __attribute__((target("avx2")))
#define TARGET_AVX512 __attribute__((target("avx512f,avx512bw")))
#define TARGET_AVX512VL __attribute__((target("avx2,avx512f,avx512vl")))

/*
 * 8 lanes x 16 words: loads each lane's 64-byte block, byte-swaps the words to
 * big-endian and transposes two 8x8 word matrices so that out[j] holds word j
 * of every lane.
 */
static inline TARGET_AVX2 void load_blocks_x8(const uint8_t *const *blocks, __m256i out[16]) {
  const __m256i bswap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
                                         3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
  for (int half = 0; half < 2; half++) {
    __m256i r[8], t[8], u[8];
    for (int l = 0; l < 8; l++) {
      r[l] = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(const void *)(blocks[l] + 32 * half)), bswap);
    }
    for (int i = 0; i < 4; i++) {
      t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
      /* u[4i+m], 128-bit half k: word 4k+m of rows 4i..4i+3 */
      u[4 * i + 0] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
      u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
      u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
      u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
    }
    for (int m = 0; m < 4; m++) {
      out[8 * half + m] = _mm256_permute2x128_si256(u[m], u[4 + m], 0x20);
      out[8 * half + 4 + m] = _mm256_permute2x128_si256(u[m], u[4 + m], 0x31);
    }
  }
}

/* The same transpose at AVX-512VL (for the 256-bit AVX-512 flavour). */
static inline TARGET_AVX512VL void load_blocks_x8_vl(const uint8_t *const *blocks, __m256i out[16]) {
  load_blocks_x8(blocks, out);
}

/*
 * 16 lanes x 16 words: byte-swaps rows (one lane's block each) to big-endian
 * words and transposes them in four shuffle stages, so out[j] holds word j of
 * every lane.
 */
static inline TARGET_AVX512 void transpose_x16(const __m512i rows[16], __m512i out[16]) {
  const __m512i bswap = _mm512_set_epi64(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL, 0x0c0d0e0f08090a0bLL,
                                         0x0405060700010203LL, 0x0c0d0e0f08090a0bLL, 0x0405060700010203LL,
                                         0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  __m512i r[16], a[16], b[16];
  for (int l = 0; l < 16; l++) r[l] = _mm512_shuffle_epi8(rows[l], bswap);
  for (int i = 0; i < 8; i++) {
    a[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    a[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; i++) {
    /* b[4i+m], 128-bit lane k: word 4k+m of rows 4i..4i+3 */
    b[4 * i + 0] = _mm512_unpacklo_epi64(a[4 * i], a[4 * i + 2]);
    b[4 * i + 1] = _mm512_unpackhi_epi64(a[4 * i], a[4 * i + 2]);
    b[4 * i + 2] = _mm512_unpacklo_epi64(a[4 * i + 1], a[4 * i + 3]);
    b[4 * i + 3] = _mm512_unpackhi_epi64(a[4 * i + 1], a[4 * i + 3]);
  }
  for (int m = 0; m < 4; m++) {
    /* Gather 128-bit lane k of b[m], b[4+m], b[8+m], b[12+m] into out[4k+m]. */
    __m512i c0 = _mm512_shuffle_i32x4(b[m], b[4 + m], 0x88);
    __m512i c1 = _mm512_shuffle_i32x4(b[m], b[4 + m], 0xDD);
    __m512i c2 = _mm512_shuffle_i32x4(b[8 + m], b[12 + m], 0x88);
    __m512i c3 = _mm512_shuffle_i32x4(b[8 + m], b[12 + m], 0xDD);
    out[0 + m] = _mm512_shuffle_i32x4(c0, c2, 0x88);
    out[8 + m] = _mm512_shuffle_i32x4(c0, c2, 0xDD);
    out[4 + m] = _mm512_shuffle_i32x4(c1, c3, 0x88);
    out[12 + m] = _mm512_shuffle_i32x4(c1, c3, 0xDD);
  }
}

static inline TARGET_AVX512 void load_blocks_x16(const uint8_t *const *blocks, __m512i out[16]) {
  __m512i rows[16];
  for (int l = 0; l < 16; l++) rows[l] = _mm512_loadu_si512((const void *)blocks[l]);
  transpose_x16(rows, out);
}

/* AVX2: 8 lanes of 256 bits; rotates are two shifts and an or. */
#define MB_FN sha256_compress_x8_avx2
#define MB_CORE sha256_core_x8_avx2
#define MB_TARGET TARGET_AVX2
#define MB_LANES 8
#define V __m256i
#define MB_LOAD_BLOCKS(blocks, w) load_blocks_x8((blocks), (w))
#define MB_LOAD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define MB_STORE(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define MB_SET1(k) _mm256_set1_epi32((int)(k))
#define MB_ADD(x, y) _mm256_add_epi32((x), (y))
#define MB_XOR3(x, y, z) _mm256_xor_si256(_mm256_xor_si256((x), (y)), (z))
#define MB_ROR(x, n) _mm256_or_si256(_mm256_srli_epi32((x), (n)), _mm256_slli_epi32((x), 32 - (n)))
#define MB_SHR(x, n) _mm256_srli_epi32((x), (n))
#define MB_CH(e, f, g) _mm256_xor_si256((g), _mm256_and_si256((e), _mm256_xor_si256((f), (g))))
#define MB_MAJ(a, b, c) _mm256_or_si256(_mm256_and_si256((a), (b)), _mm256_and_si256((c), _mm256_or_si256((a), (b))))
#include "sha256_mb_template.h"
#undef MB_FN
#undef MB_CORE
#undef MB_TARGET
#undef MB_LANES
#undef V
#undef MB_LOAD_BLOCKS
#undef MB_LOAD
#undef MB_STORE
#undef MB_SET1
#undef MB_ADD
#undef MB_XOR3
#undef MB_ROR
#undef MB_SHR
#undef MB_CH
#undef MB_MAJ

/* AVX-512: 16 lanes; native rotates, and ternary logic folds each of
 * xor3 / Ch / Maj into one instruction (truth tables 0x96, 0xCA, 0xE8). */
#define MB_FN sha256_compress_x16_avx512
#define MB_CORE sha256_core_x16_avx512
#define MB_TARGET TARGET_AVX512
#define MB_LANES 16
#define V __m512i
#define MB_LOAD_BLOCKS(blocks, w) load_blocks_x16((blocks), (w))
#define MB_LOAD(p) _mm512_loadu_si512((const void *)(p))
#define MB_STORE(p, v) _mm512_storeu_si512((void *)(p), (v))
#define MB_SET1(k) _mm512_set1_epi32((int)(k))
#define MB_ADD(x, y) _mm512_add_epi32((x), (y))
#define MB_XOR3(x, y, z) _mm512_ternarylogic_epi32((x), (y), (z), 0x96)
#define MB_ROR(x, n) _mm512_ror_epi32((x), (n))
#define MB_SHR(x, n) _mm512_srli_epi32((x), (n))
#define MB_CH(e, f, g) _mm512_ternarylogic_epi32((e), (f), (g), 0xCA)
#define MB_MAJ(a, b, c) _mm512_ternarylogic_epi32((a), (b), (c), 0xE8)
#include "sha256_mb_template.h"
#undef MB_FN
#undef MB_CORE
#undef MB_TARGET
#undef MB_LANES
#undef V
#undef MB_LOAD_BLOCKS
#undef MB_LOAD
#undef MB_STORE
#undef MB_SET1
#undef MB_ADD
#undef MB_XOR3
#undef MB_ROR
#undef MB_SHR
#undef MB_CH
#undef MB_MAJ

/* AVX-512VL on 256-bit registers: the AVX-512 instructions at AVX2 width,
 * which avoids the frequency drop some Xeons apply to 512-bit code. */
#define MB_FN sha256_compress_x8_avx512vl
#define MB_CORE sha256_core_x8_avx512vl
#define MB_TARGET TARGET_AVX512VL
#define MB_LANES 8
#define V __m256i
#define MB_LOAD_BLOCKS(blocks, w) load_blocks_x8_vl((blocks), (w))
#define MB_LOAD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define MB_STORE(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define MB_SET1(k) _mm256_set1_epi32((int)(k))
#define MB_ADD(x, y) _mm256_add_epi32((x), (y))
#define MB_XOR3(x, y, z) _mm256_ternarylogic_epi32((x), (y), (z), 0x96)
#define MB_ROR(x, n) _mm256_ror_epi32((x), (n))
#define MB_SHR(x, n) _mm256_srli_epi32((x), (n))
#define MB_CH(e, f, g) _mm256_ternarylogic_epi32((e), (f), (g), 0xCA)
#define MB_MAJ(a, b, c) _mm256_ternarylogic_epi32((a), (b), (c), 0xE8)
#include "sha256_mb_template.h"


/*
 * AVX-512 lane scheduler. Same schedule as the generic one in sha256_batch.c,
 * but each lane's block is assembled in a register: a byte-masked load takes
 * exactly the body bytes (masked-off bytes are never read, so the load may
 * start one byte before the body to make room for the prefix), and the prefix,
 * the 0x80 marker and the bit length are merged in. No block is staged through
 * memory, and the state stays in registers; new lanes are reset to the IV by a
 * masked blend.
 */
static inline TARGET_AVX512 __m512i lane_row_x16(const sha256_lane *ln, uint8_t prefix) {
  const size_t b = ln->blk;
  const size_t len = ln->len;
  const size_t start = 64 * b; /* message position of the block's first byte */
  const uintptr_t src = (uintptr_t)ln->p + start - 1; /* message position m is body byte m - 1 */
  if (b > 0 && start + 63 <= len) return _mm512_loadu_si512((const void *)src);
  const size_t total = len + 1;
  const size_t lo = b == 0 ? 1 : 0;
  const size_t hi = total > start ? (total - start < 64 ? total - start : 64) : 0;
  __mmask64 mask = 0;
  if (hi > lo) mask = (hi == 64 ? ~(__mmask64)0 : (((__mmask64)1 << hi) - 1)) & ~(((__mmask64)1 << lo) - 1);
  __m512i v = _mm512_maskz_loadu_epi8(mask, (const void *)src);
  if (b == 0) v = _mm512_mask_set1_epi8(v, (__mmask64)1, (char)prefix);
  if (total >= start && total - start < 64) v = _mm512_mask_set1_epi8(v, (__mmask64)1 << (total - start), (char)0x80);
  if (b + 1 == ln->nblk) v = _mm512_mask_set1_epi64(v, (__mmask8)0x80, (long long)__builtin_bswap64((uint64_t)total * 8u));
  return v;
}

static TARGET_AVX512 void lanes_x16(uint8_t prefix, const uint8_t *data, const uint32_t *offsets,
                                    size_t stride, size_t n, uint8_t *out) {
  sha256_lane ln[16];
  _Alignas(64) uint32_t st[8 * 16];
  __m512i s[8], iv[8];
  __mmask16 fresh = 0;
  unsigned live = 0;
  size_t next = 0;
  for (int i = 0; i < 8; i++) s[i] = iv[i] = _mm512_set1_epi32((int)sha256_iv[i]);
  for (unsigned l = 0; l < 16; l++) {
    ln[l].blk = ln[l].nblk = 0;
    if (next < n) {
      sha256_lane_load(&ln[l], data, offsets, stride, next++, out);
      fresh |= (__mmask16)(1u << l);
      live++;
    }
  }
  while (live > 0) {
    __m512i rows[16], w[16];
    for (unsigned l = 0; l < 16; l++) {
      rows[l] = ln[l].blk < ln[l].nblk ? lane_row_x16(&ln[l], prefix) : _mm512_setzero_si512();
    }
    transpose_x16(rows, w);
    for (int i = 0; i < 8; i++) s[i] = _mm512_mask_blend_epi32(fresh, s[i], iv[i]);
    fresh = 0;
    sha256_core_x16_avx512(s, w);
    int stored = 0;
    for (unsigned l = 0; l < 16; l++) {
      if (ln[l].blk >= ln[l].nblk) continue;
      if (++ln[l].blk < ln[l].nblk) continue;
      if (!stored) {
        for (int i = 0; i < 8; i++) _mm512_store_si512((void *)(st + 16 * i), s[i]);
        stored = 1;
      }
      for (unsigned i = 0; i < 8; i++) {
        uint32_t v = __builtin_bswap32(st[16 * i + l]);
        memcpy(ln[l].out + 4 * i, &v, 4);
      }
      if (next < n) {
        sha256_lane_load(&ln[l], data, offsets, stride, next++, out);
        fresh |= (__mmask16)(1u << l);
      } else {
        live--;
      }
    }
  }
}


static inline TARGET_AVX512 void store_digests_x16(const __m512i s[8], uint8_t *out) {
  _Alignas(64) uint32_t st[8 * 16];
  for (int i = 0; i < 8; i++) _mm512_store_si512((void *)(st + 16 * i), s[i]);
  for (unsigned l = 0; l < 16; l++) {
    for (unsigned i = 0; i < 8; i++) {
      uint32_t v = __builtin_bswap32(st[16 * i + l]);
      memcpy(out + 32 * l + 4 * i, &v, 4);
    }
  }
}

/*
 * Equal-length messages (interior nodes: always 0x01 || 64 bytes) go through
 * in groups of 16 that start and finish together, so the masks and the
 * constant bytes of each block are computed once per group instead of once per
 * lane. Returns how many messages it hashed; the rest go through lanes_x16.
 */
static TARGET_AVX512 size_t uniform_x16(uint8_t prefix, const uint8_t *data, size_t len, size_t n, uint8_t *out) {
  const size_t groups = n / 16;
  const size_t total = len + 1;
  const size_t nblk = (total + 8) / 64 + 1;
  const __m512i zero = _mm512_setzero_si512();
  for (size_t g = 0; g < groups; g++) {
    const uintptr_t base = (uintptr_t)data + 16 * g * len;
    __m512i s[8];
    for (int i = 0; i < 8; i++) s[i] = _mm512_set1_epi32((int)sha256_iv[i]);
    for (size_t b = 0; b < nblk; b++) {
      const size_t start = 64 * b;
      __m512i rows[16], w[16];
      if (b > 0 && start + 63 <= len) {
        for (unsigned l = 0; l < 16; l++) rows[l] = _mm512_loadu_si512((const void *)(base + l * len + start - 1));
      } else {
        /* Body bytes are [lo, hi) of the block; prefix, 0x80 and length are the same for every lane. */
        const size_t lo = b == 0 ? 1 : 0;
        const size_t hi = total > start ? (total - start < 64 ? total - start : 64) : 0;
        __mmask64 mask = 0;
        if (hi > lo) mask = (hi == 64 ? ~(__mmask64)0 : (((__mmask64)1 << hi) - 1)) & ~(((__mmask64)1 << lo) - 1);
        __m512i fixed = zero;
        if (b == 0) fixed = _mm512_mask_set1_epi8(fixed, (__mmask64)1, (char)prefix);
        if (total >= start && total - start < 64) fixed = _mm512_mask_set1_epi8(fixed, (__mmask64)1 << (total - start), (char)0x80);
        if (b + 1 == nblk) fixed = _mm512_mask_set1_epi64(fixed, (__mmask8)0x80, (long long)__builtin_bswap64((uint64_t)total * 8u));
        for (unsigned l = 0; l < 16; l++) {
          rows[l] = _mm512_or_si512(_mm512_maskz_loadu_epi8(mask, (const void *)(base + l * len + start - 1)), fixed);
        }
      }
      transpose_x16(rows, w);
      sha256_core_x16_avx512(s, w);
    }
    store_digests_x16(s, out + 32 * 16 * g);
  }
  return 16 * groups;
}

TARGET_AVX512 void sha256_batch_x16_avx512(uint8_t prefix, const uint8_t *data, const uint32_t *offsets,
                                           size_t stride, size_t n, uint8_t *out) {
  if (offsets == NULL) {
    const size_t done = uniform_x16(prefix, data, stride, n, out);
    data += done * stride;
    out += done * 32;
    n -= done;
  }
  if (n > 0) lanes_x16(prefix, data, offsets, stride, n, out);
}

#endif
