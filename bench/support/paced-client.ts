import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileC } from './compile-c.ts';
import { startLineChild } from './line-child.ts';
import { pinned } from './processes.ts';

const SOURCE = fileURLToPath(new URL('./paced-client.c', import.meta.url));

/** Where a paced client sends, and over how many connections (kept for the session's life). */
export interface PacedSessionOptions {
  /** `http://127.0.0.1:PORT/path`: IPv4 literal host, plain HTTP/1.1. */
  url: string;
  /** Open keep-alive connections; a due request that finds all busy waits, and the wait counts. */
  connections: number;
  /** CPU to pin the client to with taskset; undefined = not pinned. */
  cpu?: number;
}

/** One open-loop phase at a fixed request rate. */
export interface PacedPhase {
  /** Requests per second, spread evenly. */
  ratePerSec: number;
  /** Length of the phase, s (warm-up included). */
  durationSec: number;
  /** Requests due in the first `warmupSec` seconds are not reported. Default 1. */
  warmupSec?: number;
}

/** Options of one open-loop run on connections of its own. */
export type PacedOptions = PacedSessionOptions & PacedPhase;

export interface PacedResult {
  /** Latency of each reported request, ms, from its due time to the last byte of its answer. */
  latenciesMs: Float64Array;
  /**
   * How late each reported request left the client, ms (sent minus due), waiting for a free
   * connection included. Large values mean the client, not the server, set the latency.
   */
  sendLagMs: Float64Array;
  /** Requests the schedule held (rate × duration). */
  scheduled: number;
  sent: number;
  /** Failed requests: 4xx/5xx, connection lost mid-request, malformed or unanswered within 30 s. */
  errors: number;
  /** Requests that found every connection busy and waited for one. */
  queued: number;
  /** Reported requests ÷ reported seconds. */
  achievedRate: number;
}

/** Counters the C client prints as one JSON line. */
interface Counters {
  scheduled: number;
  sent: number;
  answered: number;
  errors: number;
  dialErrors: number;
  queued: number;
  maxQueue: number;
  reported: number;
}

/** Compiles bench/support/paced-client.c into `dir` with `cc -O2`; returns the binary's path. */
export function buildPacedClient(dir: string): string {
  return compileC(SOURCE, dir);
}

/** A running paced client: its connections stay open from one phase to the next. */
export interface PacedSession {
  /** Runs one phase on the session's connections. One at a time. */
  run(phase: PacedPhase): Promise<PacedResult>;
  /** Ends the client (it closes its connections) and waits for it to exit. */
  close(): Promise<void>;
}

/**
 * Starts the compiled open-loop client (see paced-client.c), which opens `connections` keep-alive
 * connections and keeps them for every phase: requests leave on a fixed schedule whatever the
 * server does, latency is taken from each request's due time (no coordinated omission), ns
 * resolution. Bounded: a phase that has not reported 45 s after its length kills the client.
 */
export function openPacedSession(bin: string, opts: PacedSessionOptions): PacedSession {
  const url = new URL(opts.url);
  if (url.protocol !== 'http:' || !/^\d+\.\d+\.\d+\.\d+$/.test(url.hostname)) {
    throw new Error(`paced client needs http://IPv4:port/ (got ${opts.url})`);
  }
  const [cmd, args] = pinned(opts.cpu, bin, [
    url.hostname,
    url.port || '80',
    url.pathname + url.search,
    String(opts.connections),
  ]);
  const child = startLineChild('paced client', cmd, args);
  let phases = 0;

  return {
    async run(phase) {
      const warmupSec = phase.warmupSec ?? 1;
      const out = `${bin}.${process.pid}.${++phases}.${Date.now()}.samples`;
      try {
        // The client gives stragglers 30 s after the last due request; 45 s leaves it room to report.
        const line = await child.ask(
          `${phase.ratePerSec} ${phase.durationSec} ${warmupSec} ${out}`,
          (phase.durationSec + 45) * 1_000,
        );
        return readSamples(out, JSON.parse(line) as Counters, phase.durationSec - warmupSec);
      } finally {
        rmSync(out, { force: true });
      }
    },
    close: () => child.close(),
  };
}

function readSamples(out: string, counters: Counters, reportedSec: number): PacedResult {
  const lines = readFileSync(out, 'utf8').split('\n');
  const latenciesMs = new Float64Array(counters.reported);
  const sendLagMs = new Float64Array(counters.reported);
  for (let i = 0; i < counters.reported; i++) {
    const line = lines[i]!;
    const space = line.indexOf(' ');
    latenciesMs[i] = Number(line.slice(0, space)) / 1e6;
    sendLagMs[i] = Number(line.slice(space + 1)) / 1e6;
  }
  return {
    latenciesMs,
    sendLagMs,
    scheduled: counters.scheduled,
    sent: counters.sent,
    errors: counters.errors + counters.dialErrors,
    queued: counters.queued,
    achievedRate: counters.reported / Math.max(0.001, reportedSec),
  };
}

/** One phase on connections opened for it alone (a session of one run). */
export async function runPaced(bin: string, opts: PacedOptions): Promise<PacedResult> {
  const session = openPacedSession(bin, opts);
  try {
    return await session.run(opts);
  } finally {
    await session.close();
  }
}
