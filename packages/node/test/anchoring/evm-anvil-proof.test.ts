import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createPublicClient,
  createWalletClient,
  hexToBytes,
  http,
  keccak256,
  type Hex,
  type PublicClient,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { anvil } from 'viem/chains';
import {
  buildEvmTxProof,
  decodeEvmBlockHeader,
  decodeEvmTransaction,
  encodeEvmAnchorData,
  evmBlockHash,
  toHex,
  verifyEvmAnchor,
  type EvmAnchorEvidence,
  type EvmAnchorVerification,
} from '@vaultmesh/core';
import { startAnvil, type Anvil } from '../../../../test/e2e/harness/anvil.js';
import { evmHeaderRlp } from '../../src/anchoring/evm/evm-header-rlp.js';
import { evmRpc } from '../../src/anchoring/evm/evm-rpc.js';

// The EVM anchor proof against a real chain: a local anvil node mines one block holding an anchor
// transaction among others, and the evidence built from what its JSON-RPC answers (the header's
// fields, the raw transactions) verifies offline with verifyEvmAnchor; tampering fails at the named
// check. Nothing here is mocked: the header hash, the transactions trie and the signed
// transactions are anvil's.

const ANCHOR_TO = '0x00000000000000000000000000000000000a4c40';
const expected = {
  root: hexToBytes(keccak256(new TextEncoder().encode('epoch 480000 root'))),
  federationId: 'vaultmesh-anvil-test',
  epoch: 480_000,
};

let chain: Anvil;

before(async () => {
  chain = await startAnvil({ args: ['--no-mining'] });
});

after(async () => {
  await chain?.stop();
});

type RpcBlock = Record<string, unknown> & { hash: Hex; number: Hex; transactionsRoot: Hex; transactions: RpcTx[] };
type RpcTx = { hash: Hex; type: Hex; to: Hex | null; input: Hex; chainId?: Hex; transactionIndex: Hex };

function failsAt(v: EvmAnchorVerification, name: string): void {
  assert.equal(v.ok, false);
  assert.equal(v.checks.at(-1)!.name, name, JSON.stringify(v.checks));
  assert.ok(v.checks.slice(0, -1).every((c) => c.ok));
}

function tamper(hex: string, at: number): string {
  const bytes = hexToBytes(hex as Hex);
  bytes[at]! ^= 0x01;
  return '0x' + toHex(bytes);
}

test('an anchor transaction mined by anvil verifies offline from the RPC block, header and raw transactions', async (t) => {
  const url = chain.url;
  const publicClient = createPublicClient({ chain: anvil, transport: http(url) }) as PublicClient;
  const [sender, authorizer] = chain.keys.map((k) => privateKeyToAccount(k)) as [PrivateKeyAccount, PrivateKeyAccount];
  const wallet: WalletClient = createWalletClient({ account: sender, chain: anvil, transport: http(url) });
  const data = encodeEvmAnchorData(expected);

  // Four transactions of four forms from one account, nonces given (nothing is mined between them):
  // a legacy transfer, an EIP-2930 call, the EIP-1559 anchor, and an EIP-7702 delegation.
  const authorization = await wallet.signAuthorization({
    account: authorizer,
    contractAddress: '0x000000000000000000000000000000000000c0de',
  });
  const hashes = [
    await wallet.sendTransaction({
      account: sender,
      chain: anvil,
      nonce: 0,
      type: 'legacy',
      to: authorizer.address,
      value: 1n,
    }),
    await wallet.sendTransaction({
      account: sender,
      chain: anvil,
      nonce: 1,
      type: 'eip2930',
      to: authorizer.address,
      data: '0x1234',
      accessList: [],
    }),
    await wallet.sendTransaction({
      account: sender,
      chain: anvil,
      nonce: 2,
      type: 'eip1559',
      to: ANCHOR_TO,
      data: `0x${toHex(data)}`,
    }),
    await wallet.sendTransaction({
      account: sender,
      chain: anvil,
      nonce: 3,
      type: 'eip7702',
      to: authorizer.address,
      authorizationList: [authorization],
    }),
  ];
  await publicClient.request({ method: 'evm_mine' as never, params: [] as never });

  const block = (await publicClient.request({
    method: 'eth_getBlockByNumber',
    params: ['latest', true],
  })) as unknown as RpcBlock;
  assert.deepEqual(
    block.transactions.map((tx) => tx.hash),
    hashes,
    'one block, the transactions in the order sent',
  );
  const raws = await Promise.all(
    block.transactions.map(async (tx) =>
      hexToBytes((await publicClient.request({ method: 'eth_getRawTransactionByHash', params: [tx.hash] })) as Hex),
    ),
  );

  // Each raw transaction is the one the block lists: its hash, form, recipient, data and chain id.
  for (const [i, tx] of block.transactions.entries()) {
    const raw = raws[i]!;
    assert.equal(keccak256(raw), tx.hash);
    const decoded = decodeEvmTransaction(raw);
    assert.equal(decoded.type, Number(tx.type));
    assert.equal(decoded.to === undefined ? null : `0x${toHex(decoded.to)}`, tx.to?.toLowerCase() ?? null);
    assert.equal(`0x${toHex(decoded.data)}`, tx.input);
    assert.equal(decoded.chainId, BigInt(anvil.id));
  }
  assert.deepEqual(
    block.transactions.map((tx) => Number(tx.type)),
    [0, 1, 2, 4],
  );

  // The node's header builder: anvil has no debug_getRawHeader, so this rebuilds it from the JSON
  // fields (viem's RLP encoder, independent of the one core decodes with) and checks its hash.
  const header = await evmHeaderRlp(evmRpc({ url }), block.hash, block);
  t.diagnostic(`header: ${header.source}, ${header.rlp.length} bytes`);
  assert.equal(`0x${toHex(evmBlockHash(header.rlp))}`, block.hash, 'the header RLP hashes to the block hash');
  const decodedHeader = decodeEvmBlockHeader(header.rlp);
  assert.equal(decodedHeader.number, Number(block.number));
  assert.equal(`0x${toHex(decodedHeader.transactionsRoot)}`, block.transactionsRoot);

  // The trie of the block's raw transactions has the header's root, whichever one is proven.
  const anchorIndex = 2;
  for (let i = 0; i < raws.length; i++) {
    assert.equal(`0x${toHex(buildEvmTxProof(raws, i).root)}`, block.transactionsRoot);
  }
  const { proof } = buildEvmTxProof(raws, anchorIndex);
  const evidence: EvmAnchorEvidence = {
    header: `0x${toHex(header.rlp)}`,
    tx_index: anchorIndex,
    proof: proof.map((p) => `0x${toHex(p)}`),
    tx: `0x${toHex(raws[anchorIndex]!)}`,
  };

  const v = verifyEvmAnchor(evidence, expected);
  assert.equal(v.ok, true, JSON.stringify(v.checks));
  assert.deepEqual(
    v.checks.map((c) => c.name),
    ['header', 'tx-proof', 'data'],
  );
  assert.match(v.checks[0]!.detail, new RegExp(`^block ${Number(block.number)} hash ${block.hash} `));
  assert.match(v.checks[1]!.detail, new RegExp(`^transaction 2 \\(hash ${block.transactions[2]!.hash}\\)`));
  assert.match(v.checks[2]!.detail, new RegExp(`^type-2 transaction to ${ANCHOR_TO} carries epoch 480000 `));

  // Tampering fails at the check it breaks.
  const rootAt = toHex(header.rlp).indexOf(block.transactionsRoot.slice(2)) / 2;
  assert.ok(rootAt > 0);
  failsAt(verifyEvmAnchor({ ...evidence, header: tamper(evidence.header, rootAt + 7) }, expected), 'tx-proof');
  failsAt(verifyEvmAnchor({ ...evidence, header: evidence.header.slice(0, -2) }, expected), 'header');
  failsAt(
    verifyEvmAnchor({ ...evidence, proof: evidence.proof.map((p, i) => (i === 0 ? tamper(p, 40) : p)) }, expected),
    'tx-proof',
  );
  const dataAt = toHex(raws[anchorIndex]!).indexOf(toHex(data)) / 2;
  failsAt(verifyEvmAnchor({ ...evidence, tx: tamper(evidence.tx, dataAt + 60) }, expected), 'tx-proof');
  failsAt(verifyEvmAnchor(evidence, { ...expected, epoch: 480_001 }), 'data');
  failsAt(verifyEvmAnchor(evidence, { ...expected, federationId: 'another-federation' }), 'data');
  // Another transaction of the same block, validly proven, is no anchor.
  const other = {
    ...evidence,
    tx_index: 1,
    proof: buildEvmTxProof(raws, 1).proof.map((p) => `0x${toHex(p)}`),
    tx: `0x${toHex(raws[1]!)}`,
  };
  failsAt(verifyEvmAnchor(other, expected), 'data');
});
