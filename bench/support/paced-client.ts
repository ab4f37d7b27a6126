import { Pool } from 'undici';

/** Options of one open-loop run at a fixed request rate. */
export interface PacedOptions {
  url: string;
  /** Requests per second, spread evenly. */
  ratePerSec: number;
  /** Length of the run, s (warm-up included). */
  durationSec: number;
  /** Samples scheduled in the first `warmupSec` seconds are not reported. Default 1. */
  warmupSec?: number;
  /** Most open keep-alive connections; requests beyond them queue (and that wait counts). */
  connections: number;
}

export interface PacedResult {
  /** Latency of each reported request, ms, from its scheduled send time to the end of its body. */
  latenciesMs: number[];
  /**
   * How late each reported request left the client, ms (send time minus scheduled time). Large
   * values mean the client itself could not keep the rate, so the run says nothing of the server.
   */
  sendLagMs: number[];
  sent: number;
  errors: number;
  /** Reported requests ÷ reported seconds. */
  achievedRate: number;
}

/** Tick of the pacing loop, ms: requests due since the last tick go out together. */
const TICK_MS = 1;

/**
 * Open-loop load: requests are sent on a fixed schedule whatever the answers do, and latency is
 * taken from the scheduled time, so a stalled proxy cannot hide its stall (no coordinated
 * omission). Resolution is sub-µs (performance.now), unlike autocannon's whole-ms histogram.
 * Bounded: stops scheduling after `durationSec`, gives stragglers 30 s, then closes the pool.
 */
export async function runPaced(opts: PacedOptions): Promise<PacedResult> {
  const target = new URL(opts.url);
  const pool = new Pool(target.origin, {
    connections: opts.connections,
    pipelining: 1,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const path = target.pathname + target.search;
  const warmupMs = (opts.warmupSec ?? 1) * 1_000;
  const total = Math.floor(opts.ratePerSec * opts.durationSec);
  const intervalMs = 1_000 / opts.ratePerSec;
  const latenciesMs: number[] = [];
  const sendLagMs: number[] = [];
  const inFlight = new Set<Promise<void>>();
  let errors = 0;
  let sent = 0;
  const start = performance.now();

  const fire = (scheduled: number): void => {
    if (scheduled - start >= warmupMs) sendLagMs.push(performance.now() - scheduled);
    const p = pool
      .request({ path, method: 'GET' })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode >= 500) errors++;
        else if (scheduled - start >= warmupMs) latenciesMs.push(performance.now() - scheduled);
      })
      .catch(() => {
        errors++;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      while (sent < due) fire(start + sent++ * intervalMs);
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  await Promise.race([Promise.all(inFlight), new Promise((r) => setTimeout(r, 30_000).unref())]);
  await pool.destroy();
  const reportedSec = Math.max(0.001, opts.durationSec - warmupMs / 1_000);
  return { latenciesMs, sendLagMs, sent, errors, achievedRate: latenciesMs.length / reportedSec };
}
