import net, { type AddressInfo, type Socket } from 'node:net';
import { parseHostPort } from '../../protocol/host-port.ts';
import type { ExchangeRecord, MetricsSink } from '../metrics/metrics-sink.ts';

// Test fixtures for the TCP data path: loopback servers and clients on 127.0.0.1:0.

export interface LoopbackServer {
  address: string;
  /** Sockets the server accepted, in order. */
  accepted: Socket[];
  close(): Promise<void>;
}

/** A server on 127.0.0.1:0; `onSocket` handles each accepted socket (errors are swallowed). */
export async function startServer(onSocket: (s: Socket) => void): Promise<LoopbackServer> {
  const accepted: Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    accepted.push(s);
    s.on('error', () => {});
    onSocket(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    accepted,
    async close() {
      for (const s of accepted) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Echoes every byte back, and closes its side when the client does. */
export const startEcho = (): Promise<LoopbackServer> => startServer((s) => s.pipe(s));

export interface Reads {
  socket: Socket;
  /** Each read with performance.now() ms at arrival. */
  reads: { data: Buffer; at: number }[];
  /** Resolves with the error code (or null) once the socket closed. */
  closed: Promise<string | null>;
  /** Resolves once at least `n` bytes were read in total. */
  bytes(n: number): Promise<Buffer>;
  text(): string;
}

/** Connects to `address` and records what comes back. Rejects when the connect fails. */
export function connectTo(address: string): Promise<Reads> {
  const { host, port } = parseHostPort(address);
  return new Promise((resolve, reject) => {
    // Like most clients: answers a FIN by closing its own side.
    const socket = net.connect({ host, port, noDelay: true });
    const reads: Reads['reads'] = [];
    let error: string | null = null;
    let total = 0;
    let waiters: { n: number; resolve: (b: Buffer) => void }[] = [];
    const all = () => Buffer.concat(reads.map((r) => r.data));
    const closed = new Promise<string | null>((r) => socket.once('close', () => r(error)));
    socket.on('data', (data: Buffer) => {
      reads.push({ data, at: performance.now() });
      total += data.length;
      const ready = waiters.filter((w) => total >= w.n);
      waiters = waiters.filter((w) => total < w.n);
      for (const w of ready) w.resolve(all());
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
      reject(e);
    });
    socket.once('connect', () =>
      resolve({
        socket,
        reads,
        closed,
        bytes: (n) =>
          total >= n ? Promise.resolve(all()) : new Promise((r) => waiters.push({ n, resolve: r })),
        text: () => all().toString('latin1'),
      }),
    );
  });
}

/** Resolves after `ms`. */
export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A metrics sink that keeps every record, for assertions. */
export function recordingMetrics(): MetricsSink & { records: ExchangeRecord[]; open: number } {
  const sink = {
    records: [] as ExchangeRecord[],
    open: 0,
    record(r: ExchangeRecord) {
      sink.records.push(r);
    },
    connectionOpened() {
      sink.open++;
    },
    connectionClosed() {
      sink.open--;
    },
  };
  return sink;
}

/** Polls `cond` every 5 ms until it holds or `ms` passed; returns whether it held. */
export async function waitFor(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await delay(5);
  }
  return true;
}
