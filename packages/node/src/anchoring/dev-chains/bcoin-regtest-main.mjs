// A bcoin regtest full node with its wallet, in this process: the Bitcoin dev chain that
// `federation up` and tests anchor to (started by dev-bitcoin.ts). Nothing leaves 127.0.0.1: the
// P2P pool is opened but never connected, so bcoin neither listens for peers nor dials any
// (regtest's seed is 127.0.0.1:48444, which `connect()` would dial). The node and wallet HTTP
// servers (their JSON-RPC is bitcoind-compatible) listen on port 0 and the ports the OS picked
// are read back.
//
// Environment:
//   BCOIN_REGTEST_API_KEY  required: the HTTP basic-auth password of both servers (any user name)
//   BCOIN_REGTEST_PREFIX   required: an empty directory bcoin may treat as its home; with memory
//                          databases it writes nothing there, but it would read a bcoin.conf or
//                          wallet.conf from its default home (~/.bcoin), which a dev chain must not
//                          see. Removed when the node stops.
//   BCOIN_REGTEST_REPLACE_BY_FEE  `1` (dev-bitcoin.ts's default): the mempool takes transactions that
//                          signal BIP 125 replaceability, as Bitcoin Core's does; otherwise bcoin
//                          refuses every one of them as non-standard. bcoin 1.0.2 still replaces
//                          nothing: a transaction spending what a mempool one spends is refused.
//
// Once both servers listen it prints one JSON line on stdout:
//   {"rpcUrl":"http://127.0.0.1:PORT/","walletUrl":"http://127.0.0.1:PORT/","height":0}
// and closes the node and exits 0 on SIGTERM or SIGINT, or when its stdin closes: its starter
// keeps it open, so a starter that dies without stopping the node does not leave it running.
import { rmSync } from 'node:fs';
import { setTimeout } from 'node:timers';
// bcoin is CommonJS without an exports map: its modules are imported by path, as their defaults.
import FullNode from 'bcoin/lib/node/fullnode.js';
import walletPlugin from 'bcoin/lib/wallet/plugin.js';

const HOST = '127.0.0.1';
// A close that hangs (a stuck database) must not keep the process alive after SIGTERM.
const CLOSE_TIMEOUT_MS = 5_000;

function fail(message) {
  process.stderr.write(`bcoin-regtest-main: ${message}\n`);
  process.exit(1);
}

const apiKey = process.env.BCOIN_REGTEST_API_KEY;
const prefix = process.env.BCOIN_REGTEST_PREFIX;
if (!apiKey) fail('BCOIN_REGTEST_API_KEY is not set');
if (!prefix) fail('BCOIN_REGTEST_PREFIX is not set');

// Options are bcoin config keys (dashes and case do not matter to it); `wallet-*` ones go to the
// wallet plugin. No `env`/`argv`/`config`: only what is written here configures the node.
const node = new FullNode({
  network: 'regtest',
  prefix,
  // In memory: bcoin's on-disk wallet prefix handling is broken with leveldown 6, and a dev
  // chain needs no disk.
  memory: true,
  // The one way a caller fetches a confirmed transaction by txid (getrawtransaction), as bitcoind's
  // -txindex.
  indexTx: true,
  replaceByFee: process.env.BCOIN_REGTEST_REPLACE_BY_FEE === '1',
  workers: false,
  listen: false,
  // No log: bcoin's console logger writes to stdout, where only the ready line may appear. What
  // goes wrong still reaches stderr, through the 'error' listener below.
  logLevel: 'none',
  logConsole: false,
  httpHost: HOST,
  httpPort: 0,
  apiKey,
  walletHttpHost: HOST,
  walletHttpPort: 0,
  walletApiKey: apiKey,
  plugins: [walletPlugin],
});

// invalidateblock resets the chain, and bcoin's pool answers a reset by asserting it is connected
// (Pool#forceSync). This node never connects its pool, so the assertion would throw inside the
// chain's 'reset' event and keep the listeners after it from running: the mempool's, which then
// keeps the old tip and makes every later block template fail ("Mempool/chain tip mismatch").
// With no peers there is nothing to resync; an unconnected pool skips it.
const forceSync = node.pool.forceSync.bind(node.pool);
node.pool.forceSync = () => {
  if (node.pool.connected) forceSync();
};

let closing = false;

// bcoin emits 'error' for what it logs and survives; say it where the starter can read it. Not while
// closing: the wallet still catching up with mined blocks then fails on its closed database, once
// per block, which says nothing about the chain.
node.on('error', (err) => {
  if (!closing) process.stderr.write(`bcoin: ${err && err.stack ? err.stack : String(err)}\n`);
});

async function shutdown(signal) {
  if (closing) return;
  closing = true;
  const timer = setTimeout(
    () => fail(`close did not finish within ${CLOSE_TIMEOUT_MS} ms after ${signal}`),
    CLOSE_TIMEOUT_MS,
  );
  timer.unref();
  try {
    if (node.opened) await node.close();
  } catch (err) {
    fail(`close after ${signal}: ${err && err.message ? err.message : String(err)}`);
  }
  // The home directory is this node's alone: removed here too, so it goes even when the starter
  // was killed outright and only its closed stdin told us to stop.
  rmSync(prefix, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
process.stdin.on('end', () => void shutdown('the end of stdin'));
process.stdin.on('error', () => void shutdown('an error on stdin'));
process.stdin.resume();

function urlOf(server, what) {
  const address = server.address();
  if (!address || typeof address !== 'object' || !address.port) fail(`the ${what} HTTP server is not listening`);
  return `http://${HOST}:${address.port}/`;
}

async function main() {
  await node.open();
  // Deliberately no node.connect(): that would start the P2P pool (listen, DNS seeds, dial peers).
  const wallet = node.require('walletdb');
  const ready = {
    rpcUrl: urlOf(node.http, 'node'),
    walletUrl: urlOf(wallet.http, 'wallet'),
    height: node.chain.height,
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
}

main().catch((err) => fail(`start: ${err && err.stack ? err.stack : String(err)}`));
