// How exact is a 100 ms HTTP latency fault under load? Measured at half of the proxy's own peak.
// Usage: npx node bench/latency-accuracy.ts [--duration 10] [--delay-ms 100]
//        [--directions downstream,upstream] [--no-pin] [--no-write]
// Steps: peak = wrk -c32 through the Faultline HTTP proxy with no fault; then an open-loop client
// (bench/support/paced-client.ts) at peak ÷ 2 without the fault (baseline) and with it, per
// direction. Added = faulted minus baseline at the same rate. Upstream: nginx static file.
import { parseArgs } from 'node:util';
import { startBenchRun } from './support/bench-run.ts';
import { startNodeFixture } from './support/node-fixture.ts';
import { type PacedResult, runPaced } from './support/paced-client.ts';
import { startNginxStatic } from './support/peers.ts';
import { pinSelf } from './support/processes.ts';
import { fmtInt, fmtMs, markdownTable, quantile, type TargetCheck, targetsTable } from './support/report.ts';
import { runWrk } from './support/wrk.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    'delay-ms': { type: 'string', default: '100' },
    directions: { type: 'string', default: 'downstream,upstream' },
    /** Fixed request rate (req/s) instead of half the measured peak. */
    rate: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
});
const DURATION_SEC = Number(args.duration);
const DELAY_MS = Number(args['delay-ms']);
const DIRECTIONS = args.directions.split(',').map((d) => d.trim());
/** Most connections the paced client opens (sockets, not a rate). */
const MAX_CONNECTIONS = 2_000;
/** Baseline p50 (ms) above which the run is called saturated and its verdicts void. */
const SATURATED_MS = 10;
/**
 * Limits on the client's own send lag (ms): above them the client, not the proxy, set that
 * quantile. The p50 verdict needs a punctual median send; the p99 verdict a punctual p99.
 */
const CLIENT_LAG_P50_MS = 1;
const CLIENT_LAG_P99_MS = 5;

interface Line {
  label: string;
  rate: number;
  result: PacedResult;
}

const run = startBenchRun('latency-accuracy', { pin: !args['no-pin'] });
let exitCode = 0;
try {
  pinSelf(run.cpus.load);
  const upstream = await startNginxStatic({ group: run.group, dir: run.dir, cpu: run.cpus.load });
  const proxy = await startNodeFixture(
    run.group,
    'faultline-proxy.ts',
    ['--mode', 'http', '--upstream', `127.0.0.1:${upstream.port}`],
    { name: 'faultline-http', cpu: run.cpus.proxy },
  );
  const url = `http://127.0.0.1:${proxy.port}/`;
  await runWrk({ url, connections: 32, durationSec: 1, cpu: run.cpus.load });
  const peak = await runWrk({ url, connections: 32, durationSec: 5, cpu: run.cpus.load });
  const rate = args.rate ? Number(args.rate) : Math.max(50, Math.floor(peak.requestsPerSec / 2));
  // In flight at once ≈ rate × delay; twice that leaves room for jitter in the schedule.
  const connections = Math.min(MAX_CONNECTIONS, Math.ceil(((rate * (DELAY_MS + 10)) / 1_000) * 2) + 16);
  console.log(
    `peak ${fmtInt(peak.requestsPerSec)} req/s → paced at ${fmtInt(rate)} req/s, ${connections} connections`,
  );

  const lines: Line[] = [];
  const paced = async (label: string): Promise<PacedResult> => {
    const result = await runPaced({
      url,
      ratePerSec: rate,
      durationSec: DURATION_SEC,
      connections,
      warmupSec: 1,
    });
    lines.push({ label, rate, result });
    console.log(
      `${label.padEnd(34)} p50 ${fmtMs(quantile(result.latenciesMs, 0.5), 3)}  p99 ${fmtMs(quantile(result.latenciesMs, 0.99), 3)}  errors ${result.errors}`,
    );
    return result;
  };
  // An unreported run first: connections, JIT and the proxy's pools warm up, so the baseline
  // does not carry a start-up backlog (open-loop latency never recovers from one).
  await runPaced({ url, ratePerSec: rate, durationSec: 3, connections, warmupSec: 3 });
  const baseline = await paced('no fault (baseline)');
  const base50 = quantile(baseline.latenciesMs, 0.5);
  const base99 = quantile(baseline.latenciesMs, 0.99);
  // A baseline p50 this high means the client or the proxy could not keep the rate (a queue
  // built up), so differences against it say nothing about the fault.
  const saturated = base50 > SATURATED_MS;
  const lag = (r: PacedResult, q: number): number => quantile(r.sendLagMs, q);
  // Reasons a verdict cannot be given, per quantile; collected for the notes.
  const voidP50: string[] = [];
  const voidP99: string[] = [];
  if (saturated) {
    voidP50.push(
      `baseline p50 ${fmtMs(base50)} > ${SATURATED_MS} ms (a queue built up at ${fmtInt(rate)} req/s)`,
    );
  }
  /** Records why a run's client was late; returns which of its quantiles are still sound. */
  const checkLag = (r: PacedResult, run: string): { p50: boolean; p99: boolean } => {
    const p50 = lag(r, 0.5) <= CLIENT_LAG_P50_MS;
    const p99 = lag(r, 0.99) <= CLIENT_LAG_P99_MS;
    if (!p50) voidP50.push(`client send lag p50 > ${CLIENT_LAG_P50_MS} ms in the ${run} run`);
    if (!p99) voidP99.push(`client send lag p99 > ${CLIENT_LAG_P99_MS} ms in the ${run} run`);
    return { p50, p99 };
  };
  const baseOk = checkLag(baseline, 'baseline');
  const checks: TargetCheck[] = [];
  for (const direction of DIRECTIONS) {
    await proxy.request({
      op: 'apply',
      spec: { id: 'bench-latency', type: 'latency', direction, params: { delayMs: DELAY_MS }, leaseMs: 0 },
    });
    const faulted = await paced(`${DELAY_MS} ms latency fault, ${direction}`);
    await proxy.request({ op: 'reset' });
    const ok = checkLag(faulted, direction);
    const p50Void = saturated || !baseOk.p50 || !ok.p50;
    const p99Void = p50Void || !baseOk.p99 || !ok.p99;
    const addedP50 = quantile(faulted.latenciesMs, 0.5) - base50;
    const addedP99 = quantile(faulted.latenciesMs, 0.99) - base99;
    checks.push(
      {
        what: `added p50, ${direction}`,
        measured: fmtMs(addedP50, 3),
        target: `${DELAY_MS}–${DELAY_MS + 2} ms`,
        met: p50Void ? undefined : addedP50 >= DELAY_MS && addedP50 <= DELAY_MS + 2,
      },
      {
        what: `added p99, ${direction}`,
        measured: fmtMs(addedP99, 3),
        target: `≤ ${DELAY_MS + 5} ms`,
        met: p99Void ? undefined : addedP99 <= DELAY_MS + 5,
      },
    );
  }
  const table = markdownTable(
    [
      'run',
      'rate asked',
      'rate achieved',
      'samples',
      'errors',
      'client send lag p50 / p99',
      'p50',
      'p99',
      'p99.9',
      'added p50',
      'added p99',
    ],
    lines.map(({ label, rate: r, result }) => {
      const p50 = quantile(result.latenciesMs, 0.5);
      const p99 = quantile(result.latenciesMs, 0.99);
      const isBase = result === baseline;
      return [
        label,
        fmtInt(r),
        fmtInt(result.achievedRate),
        fmtInt(result.latenciesMs.length),
        String(result.errors),
        `${fmtMs(lag(result, 0.5), 3)} / ${fmtMs(lag(result, 0.99), 3)}`,
        fmtMs(p50, 3),
        fmtMs(p99, 3),
        fmtMs(quantile(result.latenciesMs, 0.999), 3),
        isBase ? '—' : fmtMs(p50 - base50, 3),
        isBase ? '—' : fmtMs(p99 - base99, 3),
      ];
    }),
  );
  const body = [
    `Peak through the proxy (no fault, \`wrk -t1 -c32 -d5s\`): ${fmtInt(peak.requestsPerSec)} req/s. ` +
      `Paced runs at ${args.rate ? 'the --rate given' : 'half of that'}, ${fmtInt(rate)} req/s over ${connections} keep-alive connections, ` +
      `${DURATION_SEC} s each (first 1 s dropped as warm-up); latency from each request's scheduled send ` +
      'time to the end of its body (open loop, so stalls are not hidden).',
    '',
    table,
    '',
    targetsTable(checks),
  ].join('\n');
  const notes = [`Faultline HTTP proxy via ${proxy.via}; upstream nginx static file.`];
  const reasons = [...voidP50, ...voidP99];
  if (reasons.length) {
    notes.push(
      `NOT MEASURED (some verdicts): ${reasons.join('; ')}. A verdict is given only for quantiles the client ` +
        'sent on time and the proxy was not queueing; re-run on a quiet machine, or with a lower --rate.',
    );
  }
  // Only a saturated baseline makes the whole run worthless; a late client voids single verdicts.
  if (saturated) exitCode = 1;
  run.report(body, notes, !args['no-write']);
  if (!checks.every((c) => c.met === true)) console.log('some targets missed (see the targets table)');
} catch (err) {
  console.error('latency-accuracy failed:', err);
  exitCode = 1;
} finally {
  await run.stop();
}
process.exit(exitCode);
