// Preloaded into a bench child (`node --import bench/support/loop-probe.ts ...`) to see how late
// its event loop ran, without touching the code under test. Each SIGUSR2 writes what happened
// since the previous one to $FAULTLINE_LOOP_PROBE (JSON, see LoopStats) and starts afresh; the
// bench reads it with readLoopStats (loop-stats.ts). Inert when the variable is not set.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { LOOP_PROBE_ENV, LOOP_PROBE_RESOLUTION_MS, type LoopStats } from './loop-stats.ts';

const file = process.env[LOOP_PROBE_ENV];
if (file) {
  const delay = monitorEventLoopDelay({ resolution: LOOP_PROBE_RESOLUTION_MS });
  delay.enable();
  let gcPausesMs: number[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcPausesMs.push(e.duration);
  }).observe({ entryTypes: ['gc'] });
  let seq = 0;
  let cpu = process.cpuUsage();
  let since = performance.now();
  const ms = (ns: number): number => ns / 1e6;
  process.on('SIGUSR2', () => {
    const now = performance.now();
    const used = process.cpuUsage(cpu);
    const stats: LoopStats = {
      seq: ++seq,
      seconds: (now - since) / 1_000,
      cpuPercent: ((used.user + used.system) / 1_000 / (now - since)) * 100,
      delayP50Ms: ms(delay.percentile(50)),
      delayP99Ms: ms(delay.percentile(99)),
      delayMaxMs: ms(delay.max),
      gcPauses: gcPausesMs.length,
      gcTotalMs: gcPausesMs.reduce((a, b) => a + b, 0),
      gcMaxMs: gcPausesMs.reduce((a, b) => Math.max(a, b), 0),
    };
    writeFileSync(file, JSON.stringify(stats));
    delay.reset();
    gcPausesMs = [];
    cpu = process.cpuUsage();
    since = now;
  });
}
