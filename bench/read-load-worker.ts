// A load-generating client process for the postgres area's read scaling (bench/postgres-front-ends.ts):
// forked by the bench so the client's CPU is a process of its own, not the bench's main thread.
// It keeps a fixed number of keep-alive connections to every front end, each with one request in
// flight at a time — GET /v1/ns/{ns}/proof/inclusion at a random index of the signed tree — and
// counts the answers that complete inside the measured window (after the warm-up). It is told what
// to do by one IPC message and answers with one, then exits.
import { connect, type Socket } from 'node:net';

export interface ReadLoadOrder {
  /** Base URLs of the front ends, e.g. http://127.0.0.1:34567. */
  urls: string[];
  ns: string;
  /** The tree size every proof is asked against (a checkpoint every front end serves). */
  size: number;
  /** Connections (= requests in flight) this process keeps to each front end. */
  connectionsPerUrl: number;
  /** Epoch ms at which every client process starts, so their windows line up. */
  startAt: number;
  warmupMs: number;
  measureMs: number;
}

export interface ReadLoadReport {
  /** 200 answers completed inside the measured window, per front end (order of urls). */
  okPerUrl: number[];
  /** Answers other than 200, or failed requests, at any time. */
  errors: number;
  firstError?: string;
  /** The measured window's length as this process saw it, seconds. */
  seconds: number;
  /** This process's CPU (user + system) inside the measured window, µs. */
  cpuUs: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * One keep-alive HTTP/1.1 connection with one request in flight, on a bare socket: the front end
 * answers every proof with a Content-Length body, so the client only finds the end of the head,
 * reads the status and the length, and waits for that many body bytes. node:http's client costs
 * about as much CPU per request as the front end spends answering it, and on two cores that CPU
 * is taken from the front ends being measured.
 */
class KeepAliveConnection {
  private readonly socket: Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (status: number) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  private constructor(
    socket: Socket,
    private readonly host: string,
  ) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('the front end closed the connection')));
  }

  static open(base: URL): Promise<KeepAliveConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(base.port), base.hostname, () => {
        socket.off('error', reject);
        resolve(new KeepAliveConnection(socket, base.host));
      });
      socket.once('error', reject);
    });
  }

  /** GET `path`; resolves with the status once the whole answer has arrived. */
  get(path: string): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${this.host}\r\nConnection: keep-alive\r\n\r\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headEnd = this.buffered.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = this.buffered.toString('latin1', 0, headEnd);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (length === null) return this.fail(new Error(`an answer without Content-Length: ${head.split('\r\n', 1)[0]}`));
    const total = headEnd + HEAD_END.length + Number(length[1]);
    if (this.buffered.length < total) return;
    if (this.buffered.length > total) return this.fail(new Error('more bytes than the one answer asked for'));
    this.buffered = Buffer.alloc(0);
    const w = this.waiting;
    this.waiting = undefined;
    w?.resolve(Number(head.slice(9, 12)));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const w = this.waiting;
    this.waiting = undefined;
    w?.reject(e);
  }
}

async function run(order: ReadLoadOrder): Promise<ReadLoadReport> {
  const okPerUrl = order.urls.map(() => 0);
  let errors = 0;
  let firstError: string | undefined;
  await new Promise((r) => setTimeout(r, Math.max(0, order.startAt - Date.now())));
  const t0 = performance.now();
  const from = t0 + order.warmupMs;
  const to = from + order.measureMs;
  let cpuFrom: NodeJS.CpuUsage | undefined;
  const cpuMark = setTimeout(() => (cpuFrom = process.cpuUsage()), order.warmupMs);
  let cpuTo: NodeJS.CpuUsage | undefined;
  const cpuEnd = setTimeout(() => (cpuTo = process.cpuUsage(cpuFrom)), order.warmupMs + order.measureMs);

  const lanes: Array<Promise<void>> = [];
  const connections: KeepAliveConnection[] = [];
  const prefix = `/v1/ns/${encodeURIComponent(order.ns)}/proof/inclusion?size=${order.size}&index=`;
  order.urls.forEach((base, u) => {
    for (let c = 0; c < order.connectionsPerUrl; c++) {
      lanes.push(
        (async () => {
          const connection = await KeepAliveConnection.open(new URL(base));
          connections.push(connection);
          while (performance.now() < to) {
            const status = await connection.get(prefix + Math.floor(Math.random() * order.size));
            const done = performance.now();
            if (status !== 200) {
              errors++;
              firstError ??= `HTTP ${status} from ${base}`;
            } else if (done >= from && done < to) okPerUrl[u]!++;
          }
        })().catch((e: unknown) => {
          // A connection that failed ends its lane: counted, and the bench rejects the run.
          errors++;
          firstError ??= `${base}: ${e instanceof Error ? e.message : String(e)}`;
        }),
      );
    }
  });
  await Promise.all(lanes);
  clearTimeout(cpuMark);
  clearTimeout(cpuEnd);
  for (const c of connections) c.close();
  const cpu = cpuTo ?? process.cpuUsage(cpuFrom);
  return {
    okPerUrl,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    seconds: order.measureMs / 1000,
    cpuUs: cpu.user + cpu.system,
  };
}

process.once('message', (order: ReadLoadOrder) => {
  run(order).then(
    (report) => process.send!(report, () => process.exit(0)),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
});
process.send!('ready');
