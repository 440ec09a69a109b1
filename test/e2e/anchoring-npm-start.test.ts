import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { CLI_BIN } from './harness/compiled-cli.js';
import { REPO_ROOT, runCli, waitExit } from './harness/cli-process.js';
import { freePortRange } from './harness/local-federation.js';

// Issue 10 item 12: "`npm start` shows an anchored receipt for the demo namespace (local TSA
// started by `federation up`)", and issue 11 item 3: "Tests and `npm start` use a real regtest
// node started by the harness". The package.json start script itself, run as the README's
// quickstart runs it (human output, from the repository, with a relative --data as its ./data),
// with a temp data dir and free ports instead of ./data and 7801: it must print the `Anchored:`
// line, and the receipt it saved must carry anchors at the local TSA, the dev EVM chain (anvil)
// and the dev Bitcoin chain (bcoin regtest), and verify offline with `--require-anchor` and
// `--require` for each target against the genesis registry and the local TSA's CA that
// `federation up` wrote — and against the chains themselves while they run. Ctrl-C then stops
// every process `npm start` started: none of them outlives it.
const dir = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-npm-start-'));
let up: ChildProcess | undefined;
const EVM = 'eip155:31337';
const BTC = 'btc:regtest';
const TSA = 'rfc3161:local';

after(async () => {
  if (up) {
    up.kill('SIGKILL');
    await waitExit(up, 10_000);
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A process's command line, or undefined once it is gone (a zombie has none either). */
function cmdline(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return text === '' ? undefined : text.split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** Every process below `root` (children, their children, …) with its command line, from /proc. */
function descendants(root: number): Map<number, string> {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name may hold spaces and parentheses: the parent pid is the 2nd field after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
  }
  const found = new Map<number, string>();
  const queue = [root];
  while (queue.length > 0) {
    for (const pid of children.get(queue.shift()!) ?? []) {
      const line = cmdline(pid);
      if (line !== undefined) found.set(pid, line);
      queue.push(pid);
    }
  }
  return found;
}

/**
 * freePortRange's pick, kept out of the kernel's ephemeral port range: the TSA and the dev chains
 * listen on port 0 while the nodes start, and every outgoing connection takes an ephemeral port,
 * so a range inside it can be taken before the nodes bind it (EADDRINUSE).
 */
async function nodePorts(n: number): Promise<number> {
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePortRange(n);
    if (base + n <= low! || base > high!) return base;
  }
  throw new Error(`no ${n} free ports outside the ephemeral range ${low}-${high}`);
}

test(
  'npm start anchors the demo namespace at the TSA, anvil and bcoin regtest, the receipt verifies offline, and Ctrl-C stops every process',
  { timeout: 150_000 },
  async () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
    const words = pkg.scripts.start.split(/\s+/);
    assert.deepEqual(words.slice(0, 2), ['node', 'packages/cli/bin/remembrancer.js'], pkg.scripts.start);
    // Relative to the repository, as npm start's ./data is.
    const data = relative(REPO_ROOT, join(dir, 'data'));
    const base = await nodePorts(3);
    const args = words.slice(2).map((w, i, all) => {
      if (all[i - 1] === '--data') return data;
      if (all[i - 1] === '--base-port') return String(base);
      return w;
    });
    assert.ok(args.includes('--demo') && args.includes(data) && args.includes(String(base)), args.join(' '));

    up = spawn(process.execPath, [CLI_BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const child = up;
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // Ready once it says how to stop it; bounded, and a child that exits first is a failure.
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`npm start not ready in 120 s:\n${stdout}\n${stderr}`)), 120_000);
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('Press Ctrl-C')) {
          clearTimeout(timer);
          ready();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`npm start exited with ${code}:\n${stdout}\n${stderr}`));
      });
    });
    // The dev chains are installed here (root devDependencies): nothing says they are missing.
    assert.doesNotMatch(stderr, /dev chains:/, stderr);
    // The summary says where the chains listen.
    const anvilUrl = new RegExp(`^  ${EVM} +anvil +(http://127\\.0\\.0\\.1:\\d+) `, 'm').exec(stdout)?.[1];
    const bcoinUrl = new RegExp(`^  ${BTC} +bcoin regtest node +(http://127\\.0\\.0\\.1:\\d+/) `, 'm').exec(
      stdout,
    )?.[1];
    assert.ok(anvilUrl && bcoinUrl, `the summary names the chains' RPC endpoints:\n${stdout}`);
    assert.match(stdout, new RegExp(`^  ${TSA} +dev TSA \\(openssl\\) +http://127\\.0\\.0\\.1:\\d+/$`, 'm'));

    const anchoredLine = new RegExp(
      `^Anchored: the federation timestamped that checkpoint at the local TSA \\(http://127\\.0\\.0\\.1:\\d+/\\) and wrote it into blocks of the dev chains \\((\\S+) and (\\S+)\\); receipt with its federation receipts saved to (\\S+)\\. Verify it offline, from the entry to the timestamp and the blocks:$`,
      'm',
    ).exec(stdout);
    assert.ok(anchoredLine, `npm start prints the Anchored line with both chains:\n${stdout}`);
    assert.deepEqual([anchoredLine[1], anchoredLine[2]].sort(), [BTC, EVM].sort());
    const receiptFile = resolve(REPO_ROOT, anchoredLine[3]!);
    const receipt = JSON.parse(readFileSync(receiptFile, 'utf8')) as {
      anchors: { federation_receipt: { statement: { target: string } } }[];
    };
    assert.deepEqual(
      receipt.anchors.map((a) => a.federation_receipt.statement.target).sort(),
      [BTC, EVM, TSA].sort(),
      'one anchor per local target',
    );
    const logVkey = /--log-vkey '([^']+)'/.exec(stdout)?.[1];
    assert.ok(logVkey, stdout);
    // The command it prints for that receipt names the pinned registry, the TSA trust anchor and each chain.
    assert.match(
      stdout,
      /verify \S+demo-anchored-receipt\.json .* --registry \S+registry-genesis\.json --tsa-ca \S+tsa-ca\.pem --require-anchor --require \S+ --require \S+$/m,
    );
    // Offline, and against the chains while they run: each anchor's block is on its chain's best
    // chain. The bcoin RPC password is the 0600 file `federation up` wrote for the nodes.
    const password = readFileSync(join(REPO_ROOT, data, 'alpha.vaultmesh.local', 'dev-btc.pass'), 'utf8').trim();
    const v = await runCli([
      'verify',
      receiptFile,
      '--log-vkey',
      logVkey,
      '--registry',
      join(REPO_ROOT, data, 'registry-genesis.json'),
      '--tsa-ca',
      join(REPO_ROOT, data, 'tsa-ca.pem'),
      '--evm-rpc',
      anvilUrl,
      '--btc-rpc',
      bcoinUrl.replace('http://', `http://x:${password}@`),
      '--require-anchor',
      '--require',
      TSA,
      '--require',
      EVM,
      '--require',
      BTC,
    ]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /^ok {3}anchor\[\d\] anchor: rfc3161 evidence over the epoch statement verifies/m);
    assert.match(v.stdout, /^ok {3}anchor\[\d\] anchor: eip155 evidence over the epoch statement verifies/m);
    assert.match(v.stdout, /^ok {3}anchor\[\d\] anchor: btc evidence over the epoch statement verifies/m);
    assert.match(v.stdout, /receipt verified to 3 anchor\(s\)/);

    // Every process npm start runs: the nodes, anvil (under its stdin guard) and bcoin.
    const tree = descendants(child.pid!);
    const lines = [...tree.values()];
    assert.equal(lines.filter((l) => / serve --data /.test(l)).length, 3, lines.join('\n'));
    assert.ok(
      lines.some((l) => /\/anvil .*--port 0/.test(l)),
      `an anvil process:\n${lines.join('\n')}`,
    );
    assert.ok(
      lines.some((l) => /bcoin-regtest-main\.mjs/.test(l)),
      `a bcoin process:\n${lines.join('\n')}`,
    );

    // Ctrl-C stops every node and chain.
    child.kill('SIGINT');
    assert.equal(await waitExit(child, 30_000), 0, stderr);
    up = undefined;
    for (let i = 0; i < 3; i++)
      await assert.rejects(fetch(`http://127.0.0.1:${base + i}/healthz`), `node ${i} stopped with npm start`);
    await assert.rejects(fetch(anvilUrl), 'anvil stopped with npm start');
    await assert.rejects(fetch(bcoinUrl), 'bcoin stopped with npm start');
    // By pid: a process still there with the same command line outlived npm start.
    const left = [...tree].filter(([pid, line]) => cmdline(pid) === line);
    assert.deepEqual(left, [], 'no process outlives npm start');
  },
);
