/*
 * Memory-safety check of the batch drivers: messages sit flush against
 * PROT_NONE pages on both sides, so any read outside a message body faults.
 * Every flavour this CPU runs must agree with the first one (offsets and
 * stride layouts, lengths 0..299, both ends of the mapping). Run from
 * packages/node/native:
 *   cc -O2 -I src test/guard_pages.c src/sha256_batch.c src/sha256_scalar.c src/sha256_x86.c -o /tmp/guard && /tmp/guard
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sha256_batch.h"

#define MSGS 17

int main(void) {
  const sha256_impl *impls[8];
  const size_t count = sha256_impls(impls, 8);
  const long page = sysconf(_SC_PAGESIZE);
  uint8_t *map = mmap(NULL, 6 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) return 2;
  mprotect(map, (size_t)page, PROT_NONE);
  mprotect(map + 5 * page, (size_t)page, PROT_NONE);
  uint8_t *lo = map + page, *hi = map + 5 * page;
  for (long i = 0; i < 4 * page; i++) lo[i] = (uint8_t)(i * 131 + 7);
  uint8_t ref[32 * MSGS], got[32 * MSGS];
  int bad = 0;
  for (size_t len = 0; len < 300; len++) {
    uint32_t off[MSGS + 1];
    for (int i = 0; i <= MSGS; i++) off[i] = (uint32_t)(i * len);
    const uint8_t *at_start = lo, *at_end = hi - MSGS * len;
    for (int e = 0; e < 2; e++) {
      const uint8_t *d = e ? at_end : at_start;
      sha256_batch_prefixed(impls[count - 1], 0x00, d, off, 0, MSGS, ref);
      for (size_t i = 0; i < count; i++) {
        sha256_batch_prefixed(impls[i], 0x00, d, off, 0, MSGS, got);
        bad += memcmp(ref, got, sizeof ref) != 0;
        sha256_batch_prefixed(impls[i], 0x00, d, NULL, len, MSGS, got);
        bad += memcmp(ref, got, sizeof ref) != 0;
      }
    }
  }
  printf("%zu flavours, %d mismatches, no faults\n", count, bad);
  return bad != 0;
}
