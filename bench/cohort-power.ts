// Cohort comparison power and false-positive rate: a ~100 ms service behind the proxy, a latency
// fault with a cohort rule (treatment 50 %), steady traffic, and the compare guard (one-sided
// Mann-Whitney U with O'Brien-Fleming alpha spending over the run's looks). With +5 ms on the
// treatment cohort it must call a regression in ≥ 95 % of runs; with +0 ms in ≤ 5 %.
// Usage: npx node bench/cohort-power.ts [--runs 40] [--seconds 4] [--alpha 0.01]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runExperiment } from '../controller/engine/run-experiment.ts';
import { SqliteRunStore } from '../controller/store/sqlite-run-store.ts';
import { Experiment } from '../protocol/experiment.ts';
import type { Verdict } from '../protocol/verdict.ts';
import { startProxyServer } from '../proxy/proxy-server.ts';
import { startSampleService } from '../scripts/sample-service.ts';
import { factsMarkdown, runFacts } from './support/machine.ts';
import { writeResultsSection } from './support/results-file.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '40' },
    seconds: { type: 'string', default: '4' },
    alpha: { type: 'string', default: '0.01' },
  },
});
const RUNS = Number(args.runs);
const FAULT_S = Number(args.seconds);
const SERVICE_DELAY_MS = 100;
const SHIFT_MS = 5;
/** Requests per second through the proxy (both cohorts together). */
const RATE = 200;
/** Enough connections for RATE at ~100 ms each, with headroom. */
const CONNECTIONS = 40;
/**
 * The compare guard's stated alpha. 0.01, not 0.05: a calibrated test at 0.05 shows 3 or more
 * false calls in 40 runs about a third of the time, so the ≤ 5 % target would be met by luck.
 */
const ALPHA = Number(args.alpha);
const MIN_SAMPLES = 50;
const EVERY_MS = 500;
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const facts = runFacts(repoRoot);
const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-cohort-'));
const service = await startSampleService({ host: '127.0.0.1', port: 0, baseDelayMs: SERVICE_DELAY_MS });
const proxy = await startProxyServer({ admin: '127.0.0.1:0' });
const store = new SqliteRunStore(join(dir, 'faultline.db'));

/** One run on a fresh proxy (so no earlier run's samples are in its window); true = regression called. */
async function oneRun(i: number, shiftMs: number): Promise<{ regression: boolean; verdict: Verdict }> {
  const name = `cohort-${shiftMs}-${i}`;
  const view = await proxy.manager.add({
    name,
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${service.port}`,
    mode: 'http',
  });
  try {
    const experiment = Experiment.parse({
      apiVersion: 'faultline/v1',
      kind: 'Experiment',
      metadata: { name: 'bench-cohort-power' },
      spec: {
        proxyAdmin: proxy.adminUrl,
        targets: { api: { proxy: name } },
        method: [
          {
            fault: 'latency',
            target: 'api',
            params: { delayMs: shiftMs },
            cohort: { treatmentPercent: 50 },
            seed: i + 1,
            duration: FAULT_S * 1000,
          },
        ],
        guards: [
          {
            compare: {
              proxy: name,
              metric: 'latency',
              alpha: ALPHA,
              minSamples: MIN_SAMPLES,
              every: EVERY_MS,
            },
          },
        ],
        traffic: {
          url: `http://${view.boundAddress}`,
          paths: ['/checkout'],
          rate: RATE,
          connections: CONNECTIONS,
        },
        settings: { leaseMs: 5000, probeInterval: '200ms', steadyStateSamples: 1 },
      },
    });
    const verdict = await runExperiment({ experiment, store, proxyAdminUrl: proxy.adminUrl });
    const regression = verdict.ending === 'aborted' && verdict.abort?.guard === `compare:${name}`;
    if (verdict.ending !== 'aborted' && verdict.ending !== 'completed') {
      console.error(`run ${name}: unexpected ending ${verdict.ending}: ${verdict.reason}`);
    }
    return { regression, verdict };
  } finally {
    await proxy.manager.remove(name);
  }
}

const results: Record<number, { calls: number; detectMs: number[] }> = {
  0: { calls: 0, detectMs: [] },
  [SHIFT_MS]: { calls: 0, detectMs: [] },
};
const t0 = performance.now();
// Interleaved, so a change in machine load hits both conditions alike.
for (let i = 0; i < RUNS; i++) {
  for (const shift of [SHIFT_MS, 0]) {
    const { regression, verdict } = await oneRun(i, shift);
    if (regression) {
      results[shift]!.calls++;
      const applied = verdict.faults[0]?.appliedAt;
      if (applied && verdict.abort) results[shift]!.detectMs.push(verdict.abort.breachSeenAt - applied);
    }
  }
  console.log(
    `${i + 1}/${RUNS}: +${SHIFT_MS} ms called ${results[SHIFT_MS]!.calls}, +0 ms called ${results[0]!.calls}`,
  );
}
const seconds = (performance.now() - t0) / 1000;
await store.close();
await proxy.close(0);
await service.close();
rmSync(dir, { recursive: true, force: true });

const power = results[SHIFT_MS]!.calls / RUNS;
const falsePositive = results[0]!.calls / RUNS;
const detect = results[SHIFT_MS]!.detectMs.sort((a, b) => a - b);
const medianDetect = detect.length ? detect[Math.floor(detect.length / 2)]! : null;
const pass = power >= 0.95 && falsePositive <= 0.05;
console.log(
  `+${SHIFT_MS} ms: regression called in ${results[SHIFT_MS]!.calls}/${RUNS} (${(power * 100).toFixed(1)} %, target ≥ 95 %); ` +
    `+0 ms: ${results[0]!.calls}/${RUNS} (${(falsePositive * 100).toFixed(1)} %, target ≤ 5 %) — ${pass ? 'PASS' : 'FAIL'}`,
);

writeResultsSection(
  'cohort-power',
  [
    '### Cohort comparison: power at +5 ms and false positives at +0 ms',
    '',
    factsMarkdown(facts, [
      `Sample service ~${SERVICE_DELAY_MS} ms per request behind the in-process proxy (HTTP mode); ${RATE} req/s over ${CONNECTIONS} connections (autocannon); a latency fault of +${SHIFT_MS} ms or +0 ms on a 50 % treatment cohort for ${FAULT_S} s; a fresh proxy per run.`,
      `Compare guard: one-sided Mann-Whitney U on the proxy's raw cohort samples every ${EVERY_MS} ms, alpha ${ALPHA} spent across the run's ${Math.ceil((FAULT_S * 1000) / EVERY_MS)} looks (Lan-DeMets O'Brien-Fleming), min ${MIN_SAMPLES} samples per cohort, minEffectMs 0. A run "calls a regression" when the guard aborts it.`,
      `${RUNS} runs per condition, interleaved; wall time ${seconds.toFixed(0)} s. Other work may share the cores.`,
    ]),
    '',
    '| condition | runs | regression called | rate | target | median time to call |',
    '|---|---|---|---|---|---|',
    `| +${SHIFT_MS} ms on treatment | ${RUNS} | ${results[SHIFT_MS]!.calls} | ${(power * 100).toFixed(1)} % | ≥ 95 % | ${medianDetect === null ? '–' : `${(medianDetect / 1000).toFixed(1)} s`} |`,
    `| +0 ms (null) | ${RUNS} | ${results[0]!.calls} | ${(falsePositive * 100).toFixed(1)} % | ≤ 5 % | – |`,
    '',
    `Result: ${pass ? 'pass' : 'FAIL'}. By construction the false-positive rate is at most alpha (${ALPHA * 100} %) per run; over ${RUNS} null runs the count is binomial, which is why alpha is set below the 5 % target.`,
  ].join('\n'),
);
process.exitCode = pass ? 0 : 1;
