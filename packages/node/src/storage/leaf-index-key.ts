/**
 * The key a leaf hash is indexed under: its first 48 bits as an unsigned integer. An integer key
 * keeps the index rows small (the B-tree takes a random insert per entry, so row size decides
 * how much of it the page cache holds) and 48 bits are exact in a JS number. Distinct hashes
 * share a key about once in 2^48 pairs: a lookup yields candidates, checked against the tree.
 */
export function leafIndexKey(hashes: Uint8Array, offset = 0): number {
  let key = 0;
  for (let i = 0; i < 6; i++) key = key * 256 + hashes[offset + i]!;
  return key;
}
