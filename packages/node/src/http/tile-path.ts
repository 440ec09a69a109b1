import { RemembrancerError } from '@vaultmesh/core';
import { TILE_WIDTH } from '../log/tile-layout.js';

export interface TilePath {
  /** 'entries' for an entry bundle, else the tile level. */
  level: number | 'entries';
  index: number;
  /** 256 for a full tile, 1..255 for a `.p/W` partial tile. */
  width: number;
}

/**
 * Parses the part of a C2SP tlog-tiles URL after `tile/` (https://c2sp.org/tlog-tiles):
 * `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, where N is written in 3-digit groups, all but the
 * last prefixed with `x` (1234067 → x001/x234/067). Attacker-controlled: every deviation from the
 * one canonical spelling is rejected, so each tile has exactly one URL (and one cache entry).
 */
export function parseTilePath(path: string): TilePath {
  const bad = (why: string): never => {
    throw new RemembrancerError('INVALID_ARGUMENT', `invalid tile path '${path}': ${why}`);
  };
  const parts = path.split('/');
  const head = parts.shift();
  let level: number | 'entries';
  if (head === 'entries') level = 'entries';
  else if (head !== undefined && /^(0|[1-9][0-9]?)$/.test(head) && Number(head) <= 63) level = Number(head);
  else return bad('level must be 0..63 or "entries"');

  let width = TILE_WIDTH;
  const last = parts[parts.length - 1];
  if (parts.length >= 2 && /^[0-9]+$/.test(last ?? '') && parts[parts.length - 2]?.endsWith('.p')) {
    const w = parts.pop()!;
    if (!/^[1-9][0-9]{0,2}$/.test(w) || Number(w) >= TILE_WIDTH) bad('partial width must be 1..255');
    width = Number(w);
    parts[parts.length - 1] = parts[parts.length - 1]!.slice(0, -2);
  }
  if (parts.length === 0) bad('missing tile index');
  let index = 0;
  parts.forEach((p, i) => {
    const isLast = i === parts.length - 1;
    const m = isLast ? /^([0-9]{3})$/.exec(p) : /^x([0-9]{3})$/.exec(p);
    if (!m) bad(isLast ? 'last index element must be 3 digits' : 'leading index elements must be x + 3 digits');
    index = index * 1000 + Number(m![1]);
  });
  if (parts.length > 1 && parts[0] === 'x000') bad('index has a leading zero group');
  if (!Number.isSafeInteger(index)) bad('index too large');
  return { level, index, width };
}

export function formatTileIndex(index: number): string {
  const groups: string[] = [];
  let n = index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

export function formatTilePath(t: TilePath): string {
  const base = `${t.level}/${formatTileIndex(t.index)}`;
  return t.width === TILE_WIDTH ? base : `${base}.p/${t.width}`;
}
