// The checks the native addon makes before it reads memory, repeated for the JS hasher so both
// reject the same inputs with the same errors. Offsets and data can come from callers that
// received them over the network: treat them as untrusted.

export function checkLeafInput(data: unknown, offsets: unknown): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
  if (!(offsets instanceof Uint32Array)) throw new TypeError('offsets must be a Uint32Array');
  if (offsets.length === 0) throw new RangeError('offsets must hold n + 1 entries');
  for (let i = 1; i < offsets.length; i++) {
    if (offsets[i - 1]! > offsets[i]!) throw new RangeError('offsets must be non-decreasing');
  }
  if (offsets[offsets.length - 1]! > data.length) throw new RangeError('offsets point past the end of data');
}

export function checkChildrenInput(children: unknown): asserts children is Uint8Array {
  if (!(children instanceof Uint8Array)) throw new TypeError('children must be a Uint8Array');
  if (children.length % 64 !== 0) {
    throw new RangeError('children must be a multiple of 64 bytes (pairs of 32-byte hashes)');
  }
}
