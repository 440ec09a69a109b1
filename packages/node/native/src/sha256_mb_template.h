/*
 * Multi-buffer SHA-256 compression, one message block per SIMD lane.
 * Included by sha256_x86.c once per instruction set; the includer defines
 * MB_FN, MB_TARGET, MB_LANES, V and the vector operations below.
 * Tree levels are independent hashes, so lanes never wait on each other.
 */

#define MB_BSIG0(x) MB_XOR3(MB_ROR(x, 2), MB_ROR(x, 13), MB_ROR(x, 22))
#define MB_BSIG1(x) MB_XOR3(MB_ROR(x, 6), MB_ROR(x, 11), MB_ROR(x, 25))
#define MB_SSIG0(x) MB_XOR3(MB_ROR(x, 7), MB_ROR(x, 18), MB_SHR(x, 3))
#define MB_SSIG1(x) MB_XOR3(MB_ROR(x, 17), MB_ROR(x, 19), MB_SHR(x, 10))

#define MB_R(a, b, c, d, e, f, g, h, wj, t)                                                  \
  {                                                                                          \
    V t1 = MB_ADD(MB_ADD(h, MB_BSIG1(e)), MB_ADD(MB_CH(e, f, g), MB_ADD(wj, MB_SET1(sha256_k[t])))); \
    V t2 = MB_ADD(MB_BSIG0(a), MB_MAJ(a, b, c));                                             \
    d = MB_ADD(d, t1);                                                                       \
    h = MB_ADD(t1, t2);                                                                      \
  }

#define MB_R16(base)                                  \
  MB_R(a, b, c, d, e, f, g, h, w0, (base) + 0)        \
  MB_R(h, a, b, c, d, e, f, g, w1, (base) + 1)        \
  MB_R(g, h, a, b, c, d, e, f, w2, (base) + 2)        \
  MB_R(f, g, h, a, b, c, d, e, w3, (base) + 3)        \
  MB_R(e, f, g, h, a, b, c, d, w4, (base) + 4)        \
  MB_R(d, e, f, g, h, a, b, c, w5, (base) + 5)        \
  MB_R(c, d, e, f, g, h, a, b, w6, (base) + 6)        \
  MB_R(b, c, d, e, f, g, h, a, w7, (base) + 7)        \
  MB_R(a, b, c, d, e, f, g, h, w8, (base) + 8)        \
  MB_R(h, a, b, c, d, e, f, g, w9, (base) + 9)        \
  MB_R(g, h, a, b, c, d, e, f, w10, (base) + 10)      \
  MB_R(f, g, h, a, b, c, d, e, w11, (base) + 11)      \
  MB_R(e, f, g, h, a, b, c, d, w12, (base) + 12)      \
  MB_R(d, e, f, g, h, a, b, c, w13, (base) + 13)      \
  MB_R(c, d, e, f, g, h, a, b, w14, (base) + 14)      \
  MB_R(b, c, d, e, f, g, h, a, w15, (base) + 15)

/* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], in a 16-word ring. */
#define MB_W(j, jm2, jm7, jm15) w##j = MB_ADD(MB_ADD(MB_SSIG1(w##jm2), w##jm7), MB_ADD(MB_SSIG0(w##jm15), w##j));
#define MB_SCHEDULE                                                                          \
  MB_W(0, 14, 9, 1) MB_W(1, 15, 10, 2) MB_W(2, 0, 11, 3) MB_W(3, 1, 12, 4)                   \
  MB_W(4, 2, 13, 5) MB_W(5, 3, 14, 6) MB_W(6, 4, 15, 7) MB_W(7, 5, 0, 8)                     \
  MB_W(8, 6, 1, 9) MB_W(9, 7, 2, 10) MB_W(10, 8, 3, 11) MB_W(11, 9, 4, 12)                   \
  MB_W(12, 10, 5, 13) MB_W(13, 11, 6, 14) MB_W(14, 12, 7, 15) MB_W(15, 13, 8, 0)

/* Adds one block's compression to the state vectors s (word i of every lane in s[i]). */
static inline __attribute__((always_inline)) MB_TARGET void MB_CORE(V s[8], const V wv[16]) {
  V a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
  V w0 = wv[0], w1 = wv[1], w2 = wv[2], w3 = wv[3], w4 = wv[4], w5 = wv[5], w6 = wv[6], w7 = wv[7];
  V w8 = wv[8], w9 = wv[9], w10 = wv[10], w11 = wv[11], w12 = wv[12], w13 = wv[13], w14 = wv[14], w15 = wv[15];

  MB_R16(0)
  MB_SCHEDULE
  MB_R16(16)
  MB_SCHEDULE
  MB_R16(32)
  MB_SCHEDULE
  MB_R16(48)

  s[0] = MB_ADD(s[0], a);
  s[1] = MB_ADD(s[1], b);
  s[2] = MB_ADD(s[2], c);
  s[3] = MB_ADD(s[3], d);
  s[4] = MB_ADD(s[4], e);
  s[5] = MB_ADD(s[5], f);
  s[6] = MB_ADD(s[6], g);
  s[7] = MB_ADD(s[7], h);
}

MB_TARGET void MB_FN(uint32_t *st, const uint8_t *const *blocks) {
  V s[8], wv[16];
  for (int i = 0; i < 8; i++) s[i] = MB_LOAD(st + i * MB_LANES);
  MB_LOAD_BLOCKS(blocks, wv);
  MB_CORE(s, wv);
  for (int i = 0; i < 8; i++) MB_STORE(st + i * MB_LANES, s[i]);
}

#undef MB_BSIG0
#undef MB_BSIG1
#undef MB_SSIG0
#undef MB_SSIG1
#undef MB_R
#undef MB_R16
#undef MB_W
#undef MB_SCHEDULE
