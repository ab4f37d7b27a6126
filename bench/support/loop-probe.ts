// Preloaded into a bench child (`node --import bench/support/loop-probe.ts ...`) to see how late
// its event loop ran, without touching the code under test. Each SIGUSR2 writes what happened
// since the previous one to $FAULTLINE_LOOP_PROBE (JSON, see LoopStats) and starts afresh; the
// bench reads it with readLoopStats (loop-stats.ts). Inert when the variable is not set.
// Besides loop delay and GC pauses it keeps its own stream of timers as long as the fault's delay
// (one every TIMER_EVERY_MS): how late they fire is how late a delayed request is released.
import { readFileSync, writeFileSync } from 'node:fs';
import { constants, createHistogram, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import {
  LOOP_PROBE_ENV,
  LOOP_PROBE_RESOLUTION_MS,
  LOOP_PROBE_TIMER_ENV,
  type LoopStats,
} from './loop-stats.ts';

/** How often the probe starts one of its timers, ms (200 a second: cheap next to the load). */
const TIMER_EVERY_MS = 5;

/** What the scheduler did to the calling thread so far (read on the main thread). */
interface SchedCounts {
  /** Run-queue wait, ns: the second of /proc/thread-self/schedstat's three figures. */
  waitNs: number;
  /** Times it was switched out while it could still run: `nonvoluntary_ctxt_switches`. */
  preempted: number;
}

/** NaN for what this kernel does not report (schedstat needs CONFIG_SCHED_INFO; non-Linux has neither). */
function schedCounts(): SchedCounts {
  const read = (file: string): string | undefined => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };
  const preempted = /nonvoluntary_ctxt_switches:\s*(\d+)/.exec(read('/proc/thread-self/status') ?? '')?.[1];
  return {
    waitNs: Number(read('/proc/thread-self/schedstat')?.split(' ')[1] ?? Number.NaN),
    preempted: preempted === undefined ? Number.NaN : Number(preempted),
  };
}

const file = process.env[LOOP_PROBE_ENV];
if (file) {
  const delay = monitorEventLoopDelay({ resolution: LOOP_PROBE_RESOLUTION_MS });
  delay.enable();
  let gcPausesMs: number[] = [];
  // Full (mark-compact) pauses apart: a scavenge costs a few ms, a full GC tens, and which of the
  // two a run met decides its tail.
  let fullGcPausesMs: number[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcPausesMs.push(e.duration);
      const kind = (e as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) fullGcPausesMs.push(e.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  // Lateness of each probe timer against performance.now(), µs (histograms hold integers ≥ 1).
  const timerLag = createHistogram();
  const timerMs = Number(process.env[LOOP_PROBE_TIMER_ENV] ?? 100);
  setInterval(() => {
    const due = performance.now() + timerMs;
    setTimeout(() => {
      timerLag.record(Math.max(1, Math.round((performance.now() - due) * 1_000)));
    }, timerMs).unref();
  }, TIMER_EVERY_MS).unref();
  let seq = 0;
  let cpu = process.cpuUsage();
  let sched = schedCounts();
  let since = performance.now();
  const ms = (ns: number): number => ns / 1e6;
  process.on('SIGUSR2', () => {
    const now = performance.now();
    const used = process.cpuUsage(cpu);
    const schedNow = schedCounts();
    const stats: LoopStats = {
      seq: ++seq,
      seconds: (now - since) / 1_000,
      cpuPercent: ((used.user + used.system) / 1_000 / (now - since)) * 100,
      cpuWaitMs: ms(schedNow.waitNs - sched.waitNs),
      preemptions: schedNow.preempted - sched.preempted,
      delayP50Ms: ms(delay.percentile(50)),
      delayP99Ms: ms(delay.percentile(99)),
      delayMaxMs: ms(delay.max),
      timerLagP50Ms: timerLag.count ? timerLag.percentile(50) / 1_000 : Number.NaN,
      timerLagP99Ms: timerLag.count ? timerLag.percentile(99) / 1_000 : Number.NaN,
      timerLagMaxMs: timerLag.count ? timerLag.max / 1_000 : Number.NaN,
      gcPauses: gcPausesMs.length,
      gcTotalMs: gcPausesMs.reduce((a, b) => a + b, 0),
      gcMaxMs: gcPausesMs.reduce((a, b) => Math.max(a, b), 0),
      fullGcPauses: fullGcPausesMs.length,
      fullGcMaxMs: fullGcPausesMs.reduce((a, b) => Math.max(a, b), 0),
    };
    writeFileSync(file, JSON.stringify(stats));
    delay.reset();
    timerLag.reset();
    gcPausesMs = [];
    fullGcPausesMs = [];
    cpu = process.cpuUsage();
    sched = schedNow;
    since = now;
  });
}
