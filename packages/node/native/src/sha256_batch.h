/*
 * Batch SHA-256 for RFC 6962 trees: many independent messages per call, each
 * message = one prefix byte followed by a slice of a data buffer. The prefix is
 * the RFC 6962 domain separator (0x00 leaf, 0x01 interior node).
 */
#ifndef VAULTMESH_SHA256_BATCH_H
#define VAULTMESH_SHA256_BATCH_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_MAX_LANES 16

/*
 * Compresses one 64-byte block into each of `lanes` independent states.
 * blocks[lane] points at that lane's block (bytes in message order, any
 * alignment). The state is lane-minor ("transposed"): st[i * lanes + lane] is
 * word i of a lane's state, which is the layout multi-buffer SIMD wants; the
 * scalar code is the lanes == 1 case of it.
 */
typedef void (*sha256_compress_fn)(uint32_t *st, const uint8_t *const *blocks);

/* A whole batch, as sha256_batch_prefixed below; NULL means the generic driver. */
typedef void (*sha256_batch_fn)(uint8_t prefix, const uint8_t *data, const uint32_t *offsets,
                                size_t stride, size_t n, uint8_t *out);

typedef struct {
  const char *name;
  unsigned lanes;
  sha256_compress_fn compress;
  sha256_batch_fn batch;
} sha256_impl;

/* One message in flight in a SIMD lane. */
typedef struct {
  const uint8_t *p; /* message body, after the prefix byte */
  size_t len;       /* body length */
  size_t nblk;      /* padded blocks of prefix || body */
  size_t blk;       /* next block to feed */
  uint8_t *out;     /* where its digest goes */
} sha256_lane;

/* Puts message k of the batch into a lane (see sha256_batch_prefixed for the layout). */
static inline void sha256_lane_load(sha256_lane *ln, const uint8_t *data, const uint32_t *offsets,
                                    size_t stride, size_t k, uint8_t *out) {
  const size_t from = offsets ? offsets[k] : k * stride;
  const size_t to = offsets ? offsets[k + 1] : from + stride;
  ln->p = data + from;
  ln->len = to - from;
  /* prefix + body + 0x80 + 8-byte length, rounded up to whole blocks */
  ln->nblk = (ln->len + 1 + 8) / 64 + 1;
  ln->blk = 0;
  ln->out = out + 32 * k;
}

extern const uint32_t sha256_k[64];
extern const uint32_t sha256_iv[8];

void sha256_compress_x1(uint32_t *st, const uint8_t *const *blocks);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA256_HAVE_X86 1
void sha256_compress_x8_avx2(uint32_t *st, const uint8_t *const *blocks);
void sha256_compress_x16_avx512(uint32_t *st, const uint8_t *const *blocks);
void sha256_compress_x8_avx512vl(uint32_t *st, const uint8_t *const *blocks);
void sha256_batch_x16_avx512(uint8_t prefix, const uint8_t *data, const uint32_t *offsets,
                             size_t stride, size_t n, uint8_t *out);
#endif

/* Implementations this CPU can run, fastest first; returns how many. */
size_t sha256_impls(const sha256_impl **out, size_t max);

/*
 * out[32k .. 32k+32) = SHA-256(prefix || data[offsets[k] .. offsets[k+1])) for k < n.
 * When offsets is NULL the messages are data[k*stride .. (k+1)*stride).
 * The caller has validated every offset against the data length.
 */
void sha256_batch_prefixed(const sha256_impl *impl, uint8_t prefix,
                           const uint8_t *data, const uint32_t *offsets,
                           size_t stride, size_t n, uint8_t *out);

#endif
