// How exact is a 100 ms latency fault under load? Measured at half of the proxy's own peak, for
// the HTTP and the TCP proxy, side by side with the same load sent straight to the upstream.
// Usage: npx node bench/latency-accuracy.ts [--duration 10] [--delay-ms 100] [--rounds 1]
//        [--modes http,tcp] [--directions downstream,upstream] [--rate N] [--no-pin] [--no-write]
// Per mode: peak = wrk -c32 through the proxy with no fault; then an open-loop C client
// (bench/support/paced-client.c) at peak ÷ 2 against the upstream directly, the proxy without a
// fault, and the proxy with the fault per direction, interleaved over --rounds. Added = faulted
// minus no fault, same rate, same proxy process. Upstream: nginx static file.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBenchRun } from './support/bench-run.ts';
import { type Condition, type ConditionResult, runConditions } from './support/latency-conditions.ts';
import {
  LOOP_PROBE_ENV,
  LOOP_PROBE_NODE_ARGS,
  LOOP_PROBE_RESOLUTION_MS,
  LOOP_PROBE_TIMER_ENV,
} from './support/loop-stats.ts';
import { startNodeFixture } from './support/node-fixture.ts';
import { buildPacedClient } from './support/paced-client.ts';
import { startNginxStatic } from './support/peers.ts';
import {
  fmtInt,
  fmtMs,
  fmtRatio,
  markdownTable,
  quantile,
  type TargetCheck,
  targetsTable,
} from './support/report.ts';
import { runWrk } from './support/wrk.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    'delay-ms': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '1' },
    modes: { type: 'string', default: 'http,tcp' },
    directions: { type: 'string', default: 'downstream,upstream' },
    /** Fixed request rate (req/s) for every mode instead of half the measured peak. */
    rate: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
});
const DURATION_SEC = Number(args.duration);
const DELAY_MS = Number(args['delay-ms']);
const ROUNDS = Number(args.rounds);
const MODES = args.modes.split(',').map((m) => m.trim());
const DIRECTIONS = args.directions.split(',').map((d) => d.trim());
/** Most connections the paced client opens (each costs the TCP proxy two file descriptors). */
const MAX_CONNECTIONS = 6_000;
/** No-fault p50 (ms) above which the proxy is called saturated and the mode's verdicts void. */
const SATURATED_MS = 10;
/**
 * Limits on the client's own send lag (ms): above them the client, not the proxy, set that
 * quantile. The p50 verdict needs a punctual median send; the p99 verdict a punctual p99.
 */
const CLIENT_LAG_P50_MS = 1;
const CLIENT_LAG_P99_MS = 5;
/** Failed requests (share of those scheduled) above which a run's verdicts void. */
const MAX_ERROR_SHARE = 0.001;

const run = startBenchRun('latency-accuracy', { pin: !args['no-pin'] });
const sections: string[] = [];
const notes: string[] = [];
const checks: TargetCheck[] = [];
let exitCode = 0;
try {
  const bin = buildPacedClient(run.dir);
  const upstream = await startNginxStatic({ group: run.group, dir: run.dir, cpu: run.cpus.load });
  const direct = `http://127.0.0.1:${upstream.port}/`;
  for (const mode of MODES) {
    if (mode !== 'http' && mode !== 'tcp') throw new Error(`--modes: unknown mode ${mode}`);
    const probeFile = join(run.dir, `loop-${mode}.json`);
    const proxy = await startNodeFixture(
      run.group,
      'faultline-proxy.ts',
      ['--mode', mode, '--upstream', `127.0.0.1:${upstream.port}`],
      {
        name: `faultline-${mode}`,
        cpu: run.cpus.proxy,
        nodeArgs: LOOP_PROBE_NODE_ARGS,
        env: { [LOOP_PROBE_ENV]: probeFile, [LOOP_PROBE_TIMER_ENV]: String(DELAY_MS) },
      },
    );
    const url = `http://127.0.0.1:${proxy.port}/`;
    await runWrk({ url, connections: 32, durationSec: 1, cpu: run.cpus.load });
    const peak = await runWrk({ url, connections: 32, durationSec: 5, cpu: run.cpus.load });
    const rate = args.rate ? Number(args.rate) : Math.max(50, Math.floor(peak.requestsPerSec / 2));
    // In flight at once ≈ rate × delay; twice that leaves room for jitter in the answers.
    const connections = Math.min(MAX_CONNECTIONS, Math.ceil(((rate * (DELAY_MS + 10)) / 1_000) * 2) + 16);
    console.log(
      `${mode}: peak ${fmtInt(peak.requestsPerSec)} req/s → paced at ${fmtInt(rate)} req/s, ${connections} connections`,
    );
    const fault = (direction: string) => ({
      op: 'apply',
      spec: { id: 'bench-latency', type: 'latency', direction, params: { delayMs: DELAY_MS }, leaseMs: 0 },
    });
    const conditions: Condition[] = [
      { label: 'direct to upstream (no proxy)', url: direct },
      { label: 'proxy, no fault', url, probed: true },
      ...DIRECTIONS.map(
        (direction): Condition => ({
          label: `proxy + ${DELAY_MS} ms fault, ${direction}`,
          url,
          probed: true,
          apply: () => proxy.request(fault(direction)),
          revert: () => proxy.request({ op: 'reset' }),
        }),
      ),
    ];
    const results = await runConditions({
      bin,
      conditions,
      rounds: ROUNDS,
      paced: { ratePerSec: rate, durationSec: DURATION_SEC, warmupSec: 1, connections, cpu: run.cpus.load },
      probe: { pid: proxy.pid, file: probeFile },
      onResult: (r) => console.log(`${mode} ${r.label.padEnd(36)} ${summary(r)}`),
    });
    sections.push(modeSection(mode, peak.requestsPerSec, rate, connections, results, proxy.via));
  }
  const body = [
    `Each mode: peak through the proxy with no fault (\`wrk -t1 -c32 -d5s\`), then an open-loop C client ` +
      `(bench/support/paced-client.c, \`cc -O2\`) at ${args.rate ? 'the --rate given' : 'half of that peak'}, ` +
      `${DURATION_SEC} s per run (first 1 s dropped as warm-up), ${ROUNDS} interleaved round(s), samples pooled. ` +
      "Latency from each request's due time to the last byte of its answer (no coordinated omission). " +
      'Added = with the fault minus without it (same proxy process, same rate); ratio = added ÷ delay.',
    `Diagnostics: client send lag = when a request left minus when it was due (connection waits included); ` +
      `proxy timer lag = how late ${DELAY_MS} ms timers the probe starts in the proxy process every 5 ms fire (they share the loop and timer lists with the fault's); ` +
      `proxy loop delay = \`monitorEventLoopDelay\` there, sampled every ${LOOP_PROBE_RESOLUTION_MS} ms (included); ` +
      'GC = V8 pauses seen by a PerformanceObserver there (bench/support/loop-probe.ts, preloaded).',
    '',
    ...sections,
    targetsTable(checks),
  ].join('\n');
  if (checks.some((c) => c.met === undefined)) {
    notes.push(
      'NOT MEASURED verdicts: the client was late, requests failed, or the proxy was saturated (reasons below the tables); re-run on a quiet machine.',
    );
  }
  run.report(body, notes, !args['no-write']);
  if (!checks.every((c) => c.met === true))
    console.log('some targets missed or not measured (see the targets table)');
} catch (err) {
  console.error('latency-accuracy failed:', err);
  exitCode = 1;
} finally {
  await run.stop();
}
process.exit(exitCode);

function summary(r: ConditionResult): string {
  const q = (p: number): string => fmtMs(quantile(r.latenciesMs, p), 3);
  const lag = fmtMs(quantile(r.sendLagMs, 0.99), 3);
  return `p50 ${q(0.5)}  p99 ${q(0.99)}  client lag p99 ${lag}  errors ${r.errors}`;
}

/** The tables of one mode; pushes its target checks. */
function modeSection(
  mode: string,
  peak: number,
  rate: number,
  connections: number,
  results: ConditionResult[],
  via: string,
): string {
  const [direct, base, ...faulted] = results as [ConditionResult, ConditionResult, ...ConditionResult[]];
  const q = (r: ConditionResult, p: number): number => quantile(r.latenciesMs, p);
  const lag = (r: ConditionResult, p: number): number => quantile(r.sendLagMs, p);
  const reasons: string[] = [];
  const sound = (r: ConditionResult, p: 0.5 | 0.99): boolean => {
    const limit = p === 0.5 ? CLIENT_LAG_P50_MS : CLIENT_LAG_P99_MS;
    let ok = true;
    if (lag(r, p) > limit) {
      reasons.push(`${r.label}: client send lag p${p * 100} ${fmtMs(lag(r, p), 3)} > ${limit} ms`);
      ok = false;
    }
    if (r.errors > r.scheduled * MAX_ERROR_SHARE) {
      reasons.push(`${r.label}: ${r.errors} failed requests`);
      ok = false;
    }
    return ok;
  };
  const saturated = q(base, 0.5) > SATURATED_MS;
  if (saturated) {
    reasons.push(`no-fault p50 ${fmtMs(q(base, 0.5))} > ${SATURATED_MS} ms (the proxy queued at this rate)`);
    exitCode = 1;
  }
  const rows = results.map((r) => {
    const isFault = faulted.includes(r);
    const added50 = q(r, 0.5) - q(base, 0.5);
    const added99 = q(r, 0.99) - q(base, 0.99);
    return [
      r.label,
      fmtInt(r.latenciesMs.length),
      String(r.errors),
      fmtMs(q(r, 0.5), 3),
      fmtMs(q(r, 0.99), 3),
      fmtMs(q(r, 0.999), 3),
      isFault ? fmtMs(added50, 3) : '—',
      isFault ? fmtMs(added99, 3) : '—',
      isFault ? `${fmtRatio(added50 / DELAY_MS)} / ${fmtRatio(added99 / DELAY_MS)}` : '—',
      r === base
        ? `${fmtRatio(q(r, 0.5) / q(direct, 0.5))} / ${fmtRatio(q(r, 0.99) / q(direct, 0.99))}`
        : '—',
    ];
  });
  const diag = results.map((r) => [
    r.label,
    `${fmtMs(lag(r, 0.5), 3)} / ${fmtMs(lag(r, 0.99), 3)} / ${fmtMs(lag(r, 1), 2)}`,
    fmtInt(r.queued),
    r.loop ? `${Math.round(r.loop.cpuPercent)} %` : '—',
    r.loop
      ? `${fmtMs(r.loop.timerLagP50Ms, 3)} / ${fmtMs(r.loop.timerLagP99Ms, 3)} / ${fmtMs(r.loop.timerLagMaxMs)}`
      : '—',
    r.loop ? `${fmtMs(r.loop.delayP99Ms)} / ${fmtMs(r.loop.delayMaxMs)}` : '—',
    r.loop ? `${r.loop.gcPauses} / ${fmtMs(r.loop.gcTotalMs, 1)} / ${fmtMs(r.loop.gcMaxMs, 1)}` : '—',
  ]);
  const baseOk = { p50: sound(base, 0.5), p99: sound(base, 0.99) };
  for (const r of faulted) {
    const direction = r.label.slice(r.label.lastIndexOf(' ') + 1);
    const p50Ok = !saturated && baseOk.p50 && sound(r, 0.5);
    const p99Ok = p50Ok && baseOk.p99 && sound(r, 0.99);
    const added50 = q(r, 0.5) - q(base, 0.5);
    const added99 = q(r, 0.99) - q(base, 0.99);
    checks.push(
      {
        what: `${mode}: added p50, ${direction}`,
        measured: fmtMs(added50, 3),
        target: `${DELAY_MS}–${DELAY_MS + 2} ms`,
        met: p50Ok ? added50 >= DELAY_MS && added50 <= DELAY_MS + 2 : undefined,
      },
      {
        what: `${mode}: added p99, ${direction}`,
        measured: fmtMs(added99, 3),
        target: `≤ ${DELAY_MS + 5} ms`,
        met: p99Ok ? added99 <= DELAY_MS + 5 : undefined,
      },
    );
  }
  return [
    `**${mode.toUpperCase()} proxy** (Faultline via ${via}): peak ${fmtInt(peak)} req/s; paced at ${fmtInt(rate)} req/s over ${fmtInt(connections)} keep-alive connections.`,
    '',
    markdownTable(
      [
        'run',
        'samples',
        'errors',
        'p50',
        'p99',
        'p99.9',
        'added p50',
        'added p99',
        'added ÷ delay (p50 / p99)',
        '÷ direct (p50 / p99)',
      ],
      rows,
    ),
    '',
    markdownTable(
      [
        'run',
        'client send lag p50 / p99 / max',
        'waited for a connection',
        'proxy CPU',
        `proxy ${DELAY_MS} ms timer lag p50 / p99 / max`,
        'proxy loop delay p99 / max',
        'GC pauses: count / total / longest',
      ],
      diag,
    ),
    '',
    ...(reasons.length ? [`Verdicts void: ${[...new Set(reasons)].join('; ')}.`, ''] : []),
  ].join('\n');
}
