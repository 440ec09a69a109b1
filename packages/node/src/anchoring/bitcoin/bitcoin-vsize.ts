import { parseTransaction } from '@vaultmesh/core';

/*
 * Virtual size (BIP 141, https://github.com/bitcoin/bips/blob/master/bip-0141.mediawiki#transaction-size-calculations):
 * weight = stripped size × 3 + total size, vsize = weight / 4 rounded up. Fees are paid per vbyte.
 */

/** The vsize of a signed transaction, from its bytes (what the node will charge the fee rate on). */
export function bitcoinVsize(raw: Uint8Array): number {
  const tx = parseTransaction(raw);
  return Math.ceil((tx.stripped.length * 3 + raw.length) / 4);
}

/** The output script forms a single-key wallet spends, by their scriptPubKey. */
export type SpendableScriptKind = 'p2pkh' | 'p2sh-p2wpkh' | 'p2wpkh' | 'p2tr';

export function spendableScriptKind(script: Uint8Array): SpendableScriptKind | undefined {
  const s = script;
  // OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG
  if (s.length === 25 && s[0] === 0x76 && s[1] === 0xa9 && s[2] === 0x14 && s[23] === 0x88 && s[24] === 0xac) {
    return 'p2pkh';
  }
  // OP_HASH160 <20> OP_EQUAL: a wallet's only P2SH with one key is the P2WPKH it wraps.
  if (s.length === 23 && s[0] === 0xa9 && s[1] === 0x14 && s[22] === 0x87) return 'p2sh-p2wpkh';
  // OP_0 <20>
  if (s.length === 22 && s[0] === 0x00 && s[1] === 0x14) return 'p2wpkh';
  // OP_1 <32>
  if (s.length === 34 && s[0] === 0x51 && s[1] === 0x20) return 'p2tr';
  return undefined;
}

/**
 * The most weight one signed input of each kind can have: outpoint 36 + script length 1 +
 * sequence 4, times 4, plus its script and witness at their largest (a DER signature is at most
 * 72 bytes and the sighash type 1; keys compressed, 33; a Schnorr signature 64 and a sighash type).
 */
const INPUT_WEIGHT: Record<SpendableScriptKind, number> = {
  // scriptSig <sig 73> <key 33>: 1 + 73 + 1 + 33 = 108 bytes.
  p2pkh: (41 + 108) * 4,
  // scriptSig <0014{20}> (23 bytes); witness: count 1, <sig 73>, <key 33>: 109.
  'p2sh-p2wpkh': (41 + 23) * 4 + 109,
  p2wpkh: 41 * 4 + 109,
  // witness: count 1, <sig 65>: 67.
  p2tr: 41 * 4 + 67,
};

/** Version 4, input and output counts (1 byte each below 253), locktime 4. */
const TX_OVERHEAD_BYTES = 10;
/** The segwit marker and flag, witness data. */
const SEGWIT_MARKER_WEIGHT = 2;

/**
 * An upper bound of the vsize of a transaction spending `inputs` to outputs with these scripts,
 * once signed: what coin selection and the first signing price before the real size is known.
 */
export function vsizeBound(inputs: readonly SpendableScriptKind[], outputScriptLengths: readonly number[]): number {
  let weight = TX_OVERHEAD_BYTES * 4;
  for (const kind of inputs) weight += INPUT_WEIGHT[kind];
  if (inputs.some((k) => k !== 'p2pkh')) weight += SEGWIT_MARKER_WEIGHT;
  // value 8, script length 1 (scripts here are short), script.
  for (const length of outputScriptLengths) weight += (8 + 1 + length) * 4;
  return Math.ceil(weight / 4);
}
