import { RemembrancerError } from '../errors.js';
import { MAX_TILE_LEVEL, TILE_WIDTH } from './tile-geometry.js';

/** A tile or entry bundle, as named by its URL path (https://c2sp.org/tlog-tiles#apis). */
export interface TilePath {
  /** 'entries' for an entry bundle (`tile/entries/...`), else the tile level 0..63. */
  level: number | 'entries';
  /** Index of the tile within its level (of the bundle among bundles). */
  index: number;
  /** 256 for a full tile, 1..255 for a `.p/<W>` partial tile. */
  width: number;
}

function invalid(why: string): never {
  throw new RemembrancerError('INVALID_ARGUMENT', why);
}

/**
 * `<N>` of a tile path: "zero-padded 3-digit path elements. All but the last path element MUST
 * begin with an `x`" (1234067 → `x001/x234/067`), so tiles can be stored as files without
 * file/directory conflicts.
 */
export function formatTileIndex(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0)
    invalid(`tile index must be a non-negative safe integer, got ${String(index)}`);
  const groups: string[] = [];
  let n = index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** The path after `<prefix>/tile/`: `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`. */
export function formatTilePath(t: TilePath): string {
  if (t.level !== 'entries' && (!Number.isSafeInteger(t.level) || t.level < 0 || t.level > MAX_TILE_LEVEL)) {
    invalid(`tile level must be 0..${MAX_TILE_LEVEL} or "entries", got ${String(t.level)}`);
  }
  if (!Number.isSafeInteger(t.width) || t.width < 1 || t.width > TILE_WIDTH)
    invalid(`tile width must be 1..${TILE_WIDTH}, got ${String(t.width)}`);
  const base = `${t.level}/${formatTileIndex(t.index)}`;
  return t.width === TILE_WIDTH ? base : `${base}.p/${t.width}`;
}

/**
 * Parses the path after `<prefix>/tile/` (https://c2sp.org/tlog-tiles#apis). Attacker-controlled
 * (a request URL): every deviation from the one canonical spelling is rejected (a level or width
 * with leading zeroes, a 4-digit or un-`x`ed group, a leading `x000` group, `.p/256`), so each
 * tile has exactly one path and one cache entry. Throws INVALID_ARGUMENT.
 */
export function parseTilePath(path: string): TilePath {
  const bad = (why: string): never => invalid(`invalid tile path '${path}': ${why}`);
  const parts = path.split('/');
  const head = parts.shift();
  let level: number | 'entries';
  if (head === 'entries') level = 'entries';
  else if (head !== undefined && /^(0|[1-9][0-9]?)$/.test(head) && Number(head) <= MAX_TILE_LEVEL) level = Number(head);
  else return bad(`level must be 0..${MAX_TILE_LEVEL} or "entries"`);

  let width = TILE_WIDTH;
  const last = parts[parts.length - 1];
  if (parts.length >= 2 && /^[0-9]+$/.test(last ?? '') && parts[parts.length - 2]?.endsWith('.p')) {
    const w = parts.pop()!;
    if (!/^[1-9][0-9]{0,2}$/.test(w) || Number(w) >= TILE_WIDTH) bad(`partial width must be 1..${TILE_WIDTH - 1}`);
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
