// A namespace of 10,000,000 entries (full run; 300,000 with --quick): peak RSS of the process
// that fills it, and inclusion-proof latency at that size against the latency at 10,000.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchContext, BenchResults } from './measure.ts';

export default async function scaleBench(ctx: BenchContext): Promise<BenchResults> {
  const total = ctx.quick ? 300_000 : 10_000_000;
  ctx.log(`filling a ${total.toLocaleString('en-US')}-entry namespace in a child process`);
  const worker = fileURLToPath(new URL('./scale-worker.ts', import.meta.url));
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=vaultmesh-src', '--import', 'tsx', worker, String(total)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`scale worker exited with ${code}`))));
  });
  const r = JSON.parse(out.trim().split('\n').pop()!) as BenchResults;
  ctx.note(
    'scale',
    `proof latency ratio large/small: API ${(r.scale_proof_ms_large! / r.scale_proof_ms_small!).toFixed(2)}, engine ${(r.scale_engine_proof_ms_large! / r.scale_engine_proof_ms_small!).toFixed(2)}`,
  );
  return r;
}
