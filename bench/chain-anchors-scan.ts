// What the chain-anchors benchmark reads back (issue 11, item 9): every anchor transaction on the
// two local chains with what it cost, as the chains themselves say (not the nodes' accounting);
// the epochs the nodes list with their federation receipts; and the byte sizes of chain evidence.
import type { Anvil } from '../test/e2e/harness/anvil.ts';
import type { BitcoinRegtest } from '../test/e2e/harness/bitcoin-regtest.ts';
import type { FederationNode } from '../test/e2e/harness/local-federation.ts';

/** One anchor transaction found in a block of a local chain. */
export interface ChainAnchorTx {
  /** EVM: 0x + Keccak-256 hex; Bitcoin: the txid in display hex. */
  txid: string;
  height: number;
  blockHash: string;
  /** The committed 32-byte root, base64 (as epoch statements spell it). */
  root: string;
  /** EVM only: the epoch the calldata names. */
  epoch?: number;
  /** EVM: gas used and gas used × effective gas price; Bitcoin: virtual size and inputs − outputs. */
  units: bigint;
  fee: bigint;
}

/** The 9-byte head of the EVM anchor calldata: ASCII `VMANCHOR` and layout version 1 (docs/anchoring.md). */
const EVM_ANCHOR_HEAD = '0x564d414e43484f5201';

const hexToBase64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/**
 * Every anchor transaction in anvil's blocks 1 … tip: calldata in the anchor layout (tag,
 * version, federation id hash, epoch, root), with its receipt's gas used × effective gas price.
 */
export async function scanEvmAnchors(anvil: Anvil): Promise<ChainAnchorTx[]> {
  const tip = Number(BigInt((await anvil.rpc('eth_blockNumber')) as string));
  const out: ChainAnchorTx[] = [];
  for (let h = 1; h <= tip; h++) {
    const block = (await anvil.rpc('eth_getBlockByNumber', [`0x${h.toString(16)}`, true])) as {
      hash: string;
      transactions: { hash: string; input: string }[];
    };
    for (const tx of block.transactions) {
      const input = tx.input.toLowerCase();
      // 9-byte head, 32-byte federation id hash, 8-byte epoch, 32-byte root: 81 bytes.
      if (!input.startsWith(EVM_ANCHOR_HEAD) || input.length !== 2 + 2 * 81) continue;
      const receipt = (await anvil.rpc('eth_getTransactionReceipt', [tx.hash])) as {
        gasUsed: string;
        effectiveGasPrice: string;
        status: string;
      };
      const gas = BigInt(receipt.gasUsed);
      out.push({
        txid: tx.hash.toLowerCase(),
        height: h,
        blockHash: block.hash.toLowerCase(),
        root: hexToBase64(input.slice(2 + 2 * 49)),
        epoch: Number(BigInt(`0x${input.slice(2 + 2 * 41, 2 + 2 * 49)}`)),
        units: gas,
        fee: gas * BigInt(receipt.effectiveGasPrice),
      });
    }
  }
  return out;
}

interface BcoinTxJson {
  txid: string;
  vsize: number;
  vin: { txid?: string; vout?: number; coinbase?: string }[];
  vout: { value: number; scriptPubKey: { hex: string } }[];
}

const sats = (btc: number) => BigInt(Math.round(btc * 1e8));

/**
 * Every anchor transaction in bcoin's blocks above `fromHeight`: an output `OP_RETURN PUSH32
 * <root>`; its fee is what its inputs (looked up by txid: the node indexes transactions) hold
 * beyond its outputs. Also each height's block hash.
 */
export async function scanBitcoinAnchors(
  btc: BitcoinRegtest,
  fromHeight: number,
): Promise<{ anchors: ChainAnchorTx[]; hashAt: Map<number, string> }> {
  const tip = (await btc.call('getblockcount')) as number;
  const out: ChainAnchorTx[] = [];
  const hashAt = new Map<number, string>();
  const prevouts = new Map<string, BcoinTxJson>();
  for (let h = fromHeight + 1; h <= tip; h++) {
    const hash = (await btc.call('getblockhash', [h])) as string;
    hashAt.set(h, hash);
    const block = (await btc.call('getblock', [hash, true, true])) as { tx: BcoinTxJson[] };
    for (const tx of block.tx.slice(1)) {
      const anchor = tx.vout.map((o) => /^6a20([0-9a-f]{64})$/.exec(o.scriptPubKey.hex)).find((m) => m !== null);
      if (anchor === undefined || anchor === null) continue;
      let inputs = 0n;
      for (const vin of tx.vin) {
        let prev = prevouts.get(vin.txid!);
        if (prev === undefined) {
          prev = (await btc.call('getrawtransaction', [vin.txid, 1])) as BcoinTxJson;
          prevouts.set(vin.txid!, prev);
        }
        inputs += sats(prev.vout[vin.vout!]!.value);
      }
      const outputs = tx.vout.reduce((s, o) => s + sats(o.value), 0n);
      out.push({
        txid: tx.txid,
        height: h,
        blockHash: hash,
        root: hexToBase64(anchor[1]!),
        units: BigInt(tx.vsize),
        fee: inputs - outputs,
      });
    }
  }
  return { anchors: out, hashAt };
}

export interface FederationReceiptJson {
  namespace: string;
  leaf: { origin: string; size: number };
  statement: { epoch: number; root: string; target: string; mode: string; tree_size: number; node?: string };
  anchor: { tx_hash: string; block: string; timestamp: string };
  evidence: Record<string, unknown> & { type: string };
}

export interface ListedEpoch {
  epoch: number;
  mode: 'collaborative' | 'independent';
  node: string | null;
  status: 'finalized' | 'abandoned' | 'empty';
  root: string | null;
  leader: string | null;
  anchor: { tx_hash: string; block: string } | null;
  finalized_at: string | null;
  federation_receipts: FederationReceiptJson[];
}

/**
 * GET and parse JSON; a connection that fails or times out (a node busy on a loaded machine) is
 * tried again, up to three times. Generous timeouts: listings carry every federation receipt.
 */
export async function getJson<T>(url: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let r: Response;
    try {
      r = await fetch(url, { signal: AbortSignal.timeout(60_000) });
    } catch (e) {
      if (attempt >= 3) throw e;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      continue;
    }
    if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  }
}

/**
 * Rows per page: a collaborative row carries a receipt per namespace (100 × a few KB), and a page
 * must hold more than one epoch's independent rows (one per node).
 */
const PAGE = 10;

/** The epochs `node` lists at `target` from `fromEpoch` to `toEpoch`, every mode and node, newest first. */
export async function listEpochRange(
  node: FederationNode,
  target: string,
  fromEpoch: number,
  toEpoch: number,
): Promise<ListedEpoch[]> {
  const out: ListedEpoch[] = [];
  let before = toEpoch + 1;
  for (;;) {
    const page = await getJson<{ epochs: ListedEpoch[] }>(
      `${node.url}/v1/anchoring/epochs?target=${encodeURIComponent(target)}&limit=${PAGE}&before=${before}`,
    );
    const last = page.epochs.at(-1);
    if (last === undefined || page.epochs.length < PAGE || last.epoch < fromEpoch) {
      out.push(...page.epochs.filter((e) => e.epoch >= fromEpoch));
      return out;
    }
    // A full page may end inside an epoch (several independent rows): that epoch comes whole next.
    const whole = page.epochs.filter((e) => e.epoch > last.epoch);
    if (whole.length === 0) {
      // A page of one epoch's rows only (more rows than a page holds: not with five nodes).
      out.push(...page.epochs);
      before = last.epoch;
      continue;
    }
    out.push(...whole);
    before = last.epoch + 1;
  }
}

export const epochKey = (e: { epoch: number; mode: string; node: string | null }) =>
  `${e.epoch}|${e.mode}|${e.node ?? ''}`;

/** Byte sizes of one piece of chain evidence: its JSON, and the raw bytes of each part. */
export interface EvidenceSizes {
  type: 'eip155' | 'btc';
  /** JSON.stringify of the evidence member, as a receipt carries it (UTF-8 bytes). */
  json: number;
  header: number;
  tx: number;
  /** EVM: the trie proof's nodes; Bitcoin: the Merkle branch's hashes. */
  proof: number;
  proofParts: number;
}

const hexBytes = (h: string) => (h.startsWith('0x') ? h.length - 2 : h.length) / 2;

export function evidenceSizes(evidence: FederationReceiptJson['evidence']): EvidenceSizes | undefined {
  const json = Buffer.byteLength(JSON.stringify(evidence));
  if (evidence.type === 'eip155') {
    const proof = evidence['proof'] as string[];
    return {
      type: 'eip155',
      json,
      header: hexBytes(evidence['header'] as string),
      tx: hexBytes(evidence['tx'] as string),
      proof: proof.reduce((s, n) => s + hexBytes(n), 0),
      proofParts: proof.length,
    };
  }
  if (evidence.type === 'btc') {
    const branch = evidence['branch'] as string[];
    return {
      type: 'btc',
      json,
      header: hexBytes(evidence['header'] as string),
      tx: hexBytes(evidence['tx'] as string),
      proof: branch.reduce((s, n) => s + hexBytes(n), 0),
      proofParts: branch.length,
    };
  }
  return undefined;
}
