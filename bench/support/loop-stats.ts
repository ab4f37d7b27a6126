import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Environment variable naming the file loop-probe.ts writes to. */
export const LOOP_PROBE_ENV = 'FAULTLINE_LOOP_PROBE';
/** Environment variable with the length of the probe's own timers, ms (the fault's delay; default 100). */
export const LOOP_PROBE_TIMER_ENV = 'FAULTLINE_LOOP_PROBE_TIMER_MS';
/** Sampling period of the event-loop delay histogram, ms; every delay reading includes it. */
export const LOOP_PROBE_RESOLUTION_MS = 1;
/** Node arguments that preload the probe into a child. */
export const LOOP_PROBE_NODE_ARGS = ['--import', fileURLToPath(new URL('./loop-probe.ts', import.meta.url))];

/** What a child's event loop did between two readings. */
export interface LoopStats {
  /** Reading number, 1 for the first SIGUSR2. */
  seq: number;
  seconds: number;
  /** CPU time (user + system) ÷ wall time, % of one core. */
  cpuPercent: number;
  /**
   * How long the main thread was ready to run but not running, ms (Linux schedstat run-queue wait):
   * each wake from epoll until it runs, and each time another task (a kernel thread, V8's helper
   * threads, another process) held its CPU. NaN where the kernel keeps no schedstat.
   */
  cpuWaitMs: number;
  /**
   * Times the main thread was switched out while it could still run (nonvoluntary context
   * switches): another task took its CPU. In the latency bench most are the freeze watch's: a
   * real-time sleeper that wakes on that CPU every 1 ms (about CPU share × 1,000 a second).
   */
  preemptions: number;
  /** Event-loop delay quantiles, ms, sampled every LOOP_PROBE_RESOLUTION_MS (included). */
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  /**
   * How late the probe's own timers (as long as the fault's delay) fired, ms, against
   * performance.now(); they share the event loop and timer lists with the fault's timers.
   */
  timerLagP50Ms: number;
  timerLagP99Ms: number;
  timerLagMaxMs: number;
  /** Garbage-collection pauses (all kinds) and their total and longest, ms. */
  gcPauses: number;
  gcTotalMs: number;
  gcMaxMs: number;
  /** Of those, full (mark-compact) GC pauses and the longest of them, ms. */
  fullGcPauses: number;
  fullGcMaxMs: number;
}

function readingIn(file: string): LoopStats | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LoopStats;
  } catch {
    return undefined; // caught mid-write: the caller reads again
  }
}

/**
 * Asks the probed child `pid` for its stats since its previous reading (SIGUSR2) and waits for
 * the new reading to land in `file`. Rejects after `timeoutMs` (default 3 000).
 */
export async function readLoopStats(pid: number, file: string, timeoutMs = 3_000): Promise<LoopStats> {
  const before = readingIn(file)?.seq ?? 0;
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = readingIn(file);
    if (stats && stats.seq > before) return stats;
    if (Date.now() > deadline) throw new Error(`no loop reading after ${before} from pid ${pid} in ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
