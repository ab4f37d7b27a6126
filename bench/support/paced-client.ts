import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinned } from './processes.ts';

const SOURCE = fileURLToPath(new URL('./paced-client.c', import.meta.url));

/** Options of one open-loop run at a fixed request rate. */
export interface PacedOptions {
  /** `http://127.0.0.1:PORT/path`: IPv4 literal host, plain HTTP/1.1. */
  url: string;
  /** Requests per second, spread evenly. */
  ratePerSec: number;
  /** Length of the run, s (warm-up included). */
  durationSec: number;
  /** Requests due in the first `warmupSec` seconds are not reported. Default 1. */
  warmupSec?: number;
  /** Open keep-alive connections; a due request that finds all busy waits, and the wait counts. */
  connections: number;
  /** CPU to pin the client to with taskset; undefined = not pinned. */
  cpu?: number;
}

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
  const bin = join(dir, 'paced-client');
  try {
    execFileSync('cc', ['-O2', '-Wall', '-o', bin, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(
      `cannot compile ${SOURCE} with cc (is gcc installed?): ${stderr || (err as Error).message}`,
    );
  }
  return bin;
}

/**
 * Runs the compiled open-loop client (see paced-client.c): requests leave on a fixed schedule
 * whatever the server does, latency is taken from each request's due time (no coordinated
 * omission), ns resolution. Bounded: killed 45 s after its run length.
 */
export function runPaced(bin: string, opts: PacedOptions): Promise<PacedResult> {
  const url = new URL(opts.url);
  if (url.protocol !== 'http:' || !/^\d+\.\d+\.\d+\.\d+$/.test(url.hostname)) {
    throw new Error(`paced client needs http://IPv4:port/ (got ${opts.url})`);
  }
  const warmupSec = opts.warmupSec ?? 1;
  const out = `${bin}.${process.pid}.${Date.now()}.samples`;
  const [cmd, args] = pinned(opts.cpu, bin, [
    url.hostname,
    url.port || '80',
    url.pathname + url.search,
    String(opts.ratePerSec),
    String(opts.durationSec),
    String(warmupSec),
    String(opts.connections),
    out,
  ]);
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      // The client gives stragglers 30 s after the last due request; 45 s leaves it room to exit.
      { timeout: (opts.durationSec + 45) * 1_000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        try {
          if (err) throw new Error(`paced client failed (${err.message}): ${stderr}`);
          const counters = JSON.parse(stdout) as Counters;
          const lines = readFileSync(out, 'utf8').split('\n');
          const latenciesMs = new Float64Array(counters.reported);
          const sendLagMs = new Float64Array(counters.reported);
          for (let i = 0; i < counters.reported; i++) {
            const line = lines[i]!;
            const space = line.indexOf(' ');
            latenciesMs[i] = Number(line.slice(0, space)) / 1e6;
            sendLagMs[i] = Number(line.slice(space + 1)) / 1e6;
          }
          resolve({
            latenciesMs,
            sendLagMs,
            scheduled: counters.scheduled,
            sent: counters.sent,
            errors: counters.errors + counters.dialErrors,
            queued: counters.queued,
            achievedRate: counters.reported / Math.max(0.001, opts.durationSec - warmupSec),
          });
        } catch (e) {
          reject(e);
        } finally {
          rmSync(out, { force: true });
        }
      },
    );
  });
}
