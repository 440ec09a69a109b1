# sha256_batch: batch SHA-256 for RFC 6962 trees (Node-API, plain C, no dependencies).
# Build offline with `node packages/node/native/build.mjs` (npm's node-gyp, local headers).
# SIMD code paths carry per-function target attributes and are chosen at run time from CPUID,
# so no -m flags are needed here and one binary runs on any x86-64 (or falls back to scalar).
{
  "targets": [
    {
      "target_name": "sha256_batch",
      "sources": [
        "src/addon.c",
        "src/sha256_batch.c",
        "src/sha256_scalar.c",
        "src/sha256_x86.c"
      ],
      # Node's common.gypi adds -fno-omit-frame-pointer; with it the SIMD drivers measured
      # 25-40% slower on the benchmark machine (GCC 12, AVX-512), so it is dropped here.
      "cflags!": ["-fno-omit-frame-pointer"],
      "cflags_c": ["-std=c11", "-O3", "-fomit-frame-pointer", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "xcode_settings": { "OTHER_CFLAGS": ["-std=c11", "-O3"] }
    }
  ]
}
