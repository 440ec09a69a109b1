import {
  bytesEqual,
  crypto,
  messageEntryBytes,
  parseMessage,
  toHex,
  utf8Decode,
  utf8Encode,
  type NamespaceMessage,
} from '@vaultmesh/core';
import type { LogEngine } from '../../log/log-engine.js';

/** A message found in a source log. */
export interface FoundMessage {
  message: NamespaceMessage;
  id: string;
  index: number;
}

/**
 * Every message entry starts with these bytes: JCS sorts members by name, and `action` is the
 * first of a message's (action, expires_at, format, …). Entries without them are skipped unparsed,
 * so scanning a busy log costs a read, not a JSON parse, per entry.
 */
const MESSAGE_ENTRY_START = utf8Encode('{"action":"');
const READ_CHUNK = 1024;

function startsWithMessage(bytes: Uint8Array): boolean {
  if (bytes.length < MESSAGE_ENTRY_START.length) return false;
  for (let i = 0; i < MESSAGE_ENTRY_START.length; i++) if (bytes[i] !== MESSAGE_ENTRY_START[i]) return false;
  return true;
}

/**
 * The messages `self` sent from `namespace` among its log's entries [from, to), in log order:
 * entries that are exactly a namespace.message@1.0.0 entry (messageEntryBytes of what they parse
 * to, so no proof inside and nothing added) whose source is this node and this namespace. Such an
 * entry is what a receiver accepts as sent from here, so the outbox must account for each.
 */
export async function scanSentMessages(
  engine: Pick<LogEngine, 'getEntries'>,
  namespace: string,
  self: string,
  from: number,
  to: number,
): Promise<FoundMessage[]> {
  const found: FoundMessage[] = [];
  for (let start = from; start < to; start += READ_CHUNK) {
    const chunk = await engine.getEntries(namespace, start, Math.min(to, start + READ_CHUNK));
    chunk.forEach((bytes, i) => {
      if (!startsWithMessage(bytes)) return;
      let message: NamespaceMessage;
      try {
        message = parseMessage(JSON.parse(utf8Decode(bytes)));
      } catch {
        return;
      }
      if (message.source.node !== self || message.source.namespace !== namespace) return;
      if (!bytesEqual(messageEntryBytes(message), bytes)) return;
      found.push({ message, id: toHex(crypto.sha256(bytes)), index: start + i });
    });
  }
  return found;
}
