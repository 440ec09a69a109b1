// The explorer is served by every node at /explorer/ (packages/node, explorer routes), so every
// asset URL is under that base. `@vaultmesh/core` is compiled from its TypeScript sources (the
// `vaultmesh-src` condition, as in the tests) with its browser crypto provider: the Verify page
// runs the very code the CLI runs. Each .tsx file names its JSX runtime in a pragma, so the
// tests (tsx, under the root tsconfig, which knows no JSX) compile it the same way.
import { defineConfig, defaultClientConditions } from 'vite';

export default defineConfig({
  base: '/explorer/',
  resolve: { conditions: ['vaultmesh-src', ...defaultClientConditions] },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Hashed names: the node serves assets/ as immutable and index.html as no-cache.
    assetsDir: 'assets',
    sourcemap: false,
    reportCompressedSize: false,
    // The Verify chunk (pkijs and asn1js for RFC 3161 tokens, ~530 KB raw) loads only on that
    // page; the budget that matters, initial JS, is checked by scripts/bundle-size.mjs.
    chunkSizeWarningLimit: 700,
  },
});
