import type { MessageStreams } from '../api/types.ts';
import type { Health } from './health.ts';

/** One node's answer to GET /v1/messages/streams, or why it could not be read. */
export type NodeStreams = { node: string; streams?: MessageStreams; error?: string };

export interface StreamTotals {
  streams: number;
  queued: number;
  delivered: number;
  refused: number;
  expired: number;
  held: number;
  unreadable: string[];
}

/** Federation-wide totals: senders count queued (queued + sealed, not yet delivered), receivers held. */
export function streamTotals(all: readonly NodeStreams[]): StreamTotals {
  const t: StreamTotals = { streams: 0, queued: 0, delivered: 0, refused: 0, expired: 0, held: 0, unreadable: [] };
  for (const n of all) {
    if (!n.streams) {
      t.unreadable.push(n.node);
      continue;
    }
    for (const s of n.streams.outgoing) {
      t.streams++;
      t.queued += s.queued + s.sealed;
      t.delivered += s.delivered;
      t.refused += s.refused;
      t.expired += s.expired;
    }
    for (const s of n.streams.incoming) t.held += s.held;
  }
  return t;
}

/** A sending stream's state in one word: refused or expired messages need a look, a backlog is only worth a note. */
export function outgoingHealth(s: { queued: number; sealed: number; refused: number; expired: number }): Health {
  if (s.refused > 0 || s.expired > 0) return 'warn';
  return 'ok';
}
