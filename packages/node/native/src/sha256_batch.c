/*
 * Lane scheduler: keeps every SIMD lane busy with some message. When a lane's
 * message ends, its digest is written and the next message is loaded into that
 * lane, so messages of different lengths share one pass.
 */
#include <string.h>

#include "sha256_batch.h"

static inline void store_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

size_t sha256_impls(const sha256_impl **out, size_t max) {
  static const sha256_impl scalar = {"scalar", 1, sha256_compress_x1, NULL};
  size_t k = 0;
#ifdef SHA256_HAVE_X86
  static const sha256_impl avx512 = {"avx512", 16, sha256_compress_x16_avx512, sha256_batch_x16_avx512};
  static const sha256_impl avx512vl = {"avx512vl", 8, sha256_compress_x8_avx512vl, NULL};
  static const sha256_impl avx2 = {"avx2", 8, sha256_compress_x8_avx2, NULL};
  /* libgcc's cpu model also checks XGETBV, i.e. that the OS saves the wide registers. */
  __builtin_cpu_init();
  const int has_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  if (has_avx512 && k < max) out[k++] = &avx512;
  if (has_avx512 && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") && k < max) out[k++] = &avx512vl;
  if (__builtin_cpu_supports("avx2") && k < max) out[k++] = &avx2;
#endif
  if (k < max) out[k++] = &scalar;
  return k;
}

/*
 * Returns block `blk` of (prefix || p[0..len) || SHA-256 padding): a pointer
 * into the body when the block lies wholly inside it (the prefix byte shifts
 * the body by one, so block b starts at p + 64b - 1), else a copy in buf.
 */
static inline const uint8_t *lane_block(const sha256_lane *ln, uint8_t prefix, uint8_t *buf) {
  const size_t b = ln->blk;
  const size_t len = ln->len;
  const uint8_t *p = ln->p;
  if (b > 0 && 64 * b + 63 <= len) return p + 64 * b - 1;
  if (b == 0 && len >= 63) {
    buf[0] = prefix;
    memcpy(buf + 1, p, 63);
    return buf;
  }
  /* The block holding the end of the body, the 0x80 marker or the length. */
  memset(buf, 0, 64);
  size_t pos = 0;
  size_t body_at; /* body index that lands at buf[pos] */
  if (b == 0) {
    buf[pos++] = prefix;
    body_at = 0;
  } else {
    body_at = 64 * b - 1;
  }
  if (body_at < len) {
    size_t take = len - body_at;
    if (take > 64 - pos) take = 64 - pos;
    memcpy(buf + pos, p + body_at, take);
    pos += take;
  }
  const size_t total = len + 1; /* message bytes: prefix and body */
  if (pos < 64 && 64 * b + pos == total) buf[pos] = 0x80;
  if (b + 1 == ln->nblk) {
    const uint64_t bits = (uint64_t)total * 8u;
    store_be32(buf + 56, (uint32_t)(bits >> 32));
    store_be32(buf + 60, (uint32_t)bits);
  }
  return buf;
}

void sha256_batch_prefixed(const sha256_impl *impl, uint8_t prefix,
                           const uint8_t *data, const uint32_t *offsets,
                           size_t stride, size_t n, uint8_t *out) {
  if (impl->batch) {
    impl->batch(prefix, data, offsets, stride, n, out);
    return;
  }
  const unsigned lanes = impl->lanes;
  uint32_t st[8 * SHA256_MAX_LANES];
  _Alignas(64) uint8_t bufs[SHA256_MAX_LANES][64];
  const uint8_t *blocks[SHA256_MAX_LANES];
  sha256_lane ln[SHA256_MAX_LANES];
  unsigned live = 0;
  size_t next = 0;

  memset(bufs, 0, sizeof bufs);
  for (unsigned l = 0; l < lanes; l++) {
    ln[l].nblk = 0;
    ln[l].blk = 0;
    blocks[l] = bufs[l];
  }

#define LOAD_LANE(l)                                                         \
  do {                                                                       \
    sha256_lane_load(&ln[l], data, offsets, stride, next++, out);            \
    for (unsigned i_ = 0; i_ < 8; i_++) st[i_ * lanes + (l)] = sha256_iv[i_]; \
  } while (0)

  for (unsigned l = 0; l < lanes && next < n; l++) {
    LOAD_LANE(l);
    live++;
  }
  while (live > 0) {
    for (unsigned l = 0; l < lanes; l++) {
      if (ln[l].blk < ln[l].nblk) blocks[l] = lane_block(&ln[l], prefix, bufs[l]);
    }
    /* Idle lanes hash whatever their block pointer still shows; their state is never read. */
    impl->compress(st, blocks);
    for (unsigned l = 0; l < lanes; l++) {
      if (ln[l].blk >= ln[l].nblk) continue;
      if (++ln[l].blk < ln[l].nblk) continue;
      for (unsigned i = 0; i < 8; i++) store_be32(ln[l].out + 4 * i, st[i * lanes + l]);
      if (next < n) {
        LOAD_LANE(l);
      } else {
        live--;
      }
    }
  }
#undef LOAD_LANE
}
