import { RemembrancerError } from '@vaultmesh/core';

/*
 * A parser of `text/event-stream` (server-sent events) as the HTML standard defines it
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation),
 * fed in chunks as they arrive from the network. The stream is attacker-controlled input (whoever
 * answers at --url), so a line and an event's data are bounded: a stream that exceeds a bound is
 * refused with PAYLOAD_TOO_LARGE rather than buffered without end.
 */

/** One dispatched event. */
export interface ServerSentEvent {
  /** The `event:` field, `message` when none was given. */
  type: string;
  /** The `data:` lines joined with LF. */
  data: string;
  /** The last event ID in force when the event was dispatched (`id:` fields persist across events). */
  lastEventId: string;
}

export interface EventStreamLimits {
  /** Longest line kept, in UTF-16 code units. */
  maxLineLength: number;
  /** Longest data of one event, in UTF-16 code units. */
  maxDataLength: number;
}

/** Enough for any inbox item (a message entry is at most 64 KiB of JSON, its proof 64 Ki characters). */
export const DEFAULT_EVENT_STREAM_LIMITS: EventStreamLimits = {
  maxLineLength: 1024 * 1024,
  maxDataLength: 1024 * 1024,
};

const LINE_END = /\r\n|\r|\n/g;
const DIGITS = /^[0-9]+$/;

export class EventStreamParser {
  #limits: EventStreamLimits;
  /** The unterminated tail of the last chunk. */
  #line = '';
  /** The last chunk ended in CR: an LF starting the next chunk belongs to that line end. */
  #skipLeadingLf = false;
  #type = '';
  #data = '';
  #hasData = false;
  #lastEventId = '';
  #retryMs: number | undefined;

  constructor(limits: EventStreamLimits = DEFAULT_EVENT_STREAM_LIMITS) {
    this.#limits = limits;
  }

  /** The last event ID buffer: what a reconnection sends as `Last-Event-ID`. */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** The reconnection time the server asked for with a `retry:` field, if any. */
  get retryMs(): number | undefined {
    return this.#retryMs;
  }

  /** Parses one chunk of decoded text; returns the events it completed, in order. */
  push(chunk: string): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    let text = chunk;
    if (this.#skipLeadingLf && text.length > 0) {
      if (text.startsWith('\n')) text = text.slice(1);
      this.#skipLeadingLf = false;
    }
    LINE_END.lastIndex = 0;
    let start = 0;
    for (let m = LINE_END.exec(text); m !== null; m = LINE_END.exec(text)) {
      this.#append(text.slice(start, m.index));
      const line = this.#line;
      this.#line = '';
      const event = this.#processLine(line);
      if (event !== undefined) events.push(event);
      start = m.index + m[0].length;
      if (m[0] === '\r' && start === text.length) this.#skipLeadingLf = true;
    }
    this.#append(text.slice(start));
    return events;
  }

  #append(piece: string): void {
    if (this.#line.length + piece.length > this.#limits.maxLineLength) {
      throw new RemembrancerError(
        'PAYLOAD_TOO_LARGE',
        `the event stream sent a line longer than ${this.#limits.maxLineLength} characters`,
      );
    }
    this.#line += piece;
  }

  #processLine(line: string): ServerSentEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#type = value;
        break;
      case 'data':
        if (this.#data.length + value.length + 1 > this.#limits.maxDataLength) {
          throw new RemembrancerError(
            'PAYLOAD_TOO_LARGE',
            `the event stream sent an event with more than ${this.#limits.maxDataLength} characters of data`,
          );
        }
        this.#data += (this.#hasData ? '\n' : '') + value;
        this.#hasData = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.#lastEventId = value;
        break;
      case 'retry':
        if (DIGITS.test(value)) this.#retryMs = Number(value);
        break;
      default:
        // Unknown fields are ignored, as the standard says.
        break;
    }
    return undefined;
  }

  #dispatch(): ServerSentEvent | undefined {
    const hasData = this.#hasData;
    const event: ServerSentEvent = { type: this.#type || 'message', data: this.#data, lastEventId: this.#lastEventId };
    this.#type = '';
    this.#data = '';
    this.#hasData = false;
    return hasData ? event : undefined;
  }
}
