// Does the proxy's memory stay flat under long-lived load? 1,000 keep-alive connections through
// the Faultline HTTP proxy and, at the same time, 1,000 through the TCP proxy (each in its own
// child process), at a bounded request rate, sampling each proxy's RSS every 5 s.
// Usage: npx node bench/memory-soak.ts [--minutes 10] [--warmup 3] [--connections 1000] [--rate 1000]
//        [--modes http,tcp] [--no-pin] [--no-write]
// Growth is measured over --minutes after a --warmup (minutes) of the same load, so start-up, JIT
// warm-up and the first filling of the proxy's fixed 2 × 64 MB young generation do not count: at
// 1,000 req/s the TCP proxy allocates ~1 MB a second, so its young generation becomes resident
// only ~3 minutes in (RSS 217 → 255 MiB from 60 to 180 s, then flat). Each end of the
// comparison is the median of a minute of 5 s readings (twelve), so a dip of a few readings, when
// V8 gives pages back, cannot decide it (three readings could: 2026-12-02 19:25Z). No GC
// is forced before those readings: a forced full GC evacuates into fresh pages and itself raises
// RSS for a while. After the last reading, one forced GC (node --expose-gc) gives the V8 heap in
// use, the plainer JavaScript-leak signal. Half the traffic goes through a 0 ms latency fault,
// so both the clean and the faulted data paths are soaked.
import { parseArgs } from 'node:util';
import { startBenchRun } from './support/bench-run.ts';
import { type NodeFixture, startNodeFixture } from './support/node-fixture.ts';
import { startNginxStatic } from './support/peers.ts';
import { pinSelf, rssBytes } from './support/processes.ts';
import { PROXY_FLAGS_NOTE, PROXY_NODE_FLAGS } from './support/proxy-node-flags.ts';
import { fmtInt, markdownTable, type TargetCheck, targetsTable } from './support/report.ts';
import { type Reading, windowMedian } from './support/rss-window.ts';
import { runSoak, type SoakStats } from './support/soak-client.ts';

const { values: args } = parseArgs({
  options: {
    /** Minutes measured, after the warm-up. */
    minutes: { type: 'string', default: '10' },
    /** Minutes of load before the baseline reading. */
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '1000' },
    modes: { type: 'string', default: 'http,tcp' },
    'no-pin': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
});
/** Where growth is measured from, s. */
const BASELINE_SEC = Math.round(Number(args.warmup) * 60);
/** The measured window, s: the target is about 10 minutes of it. */
const MEASURED_SEC = Math.round(Number(args.minutes) * 60);
/** RSS sampling period, ms. */
const SAMPLE_MS = 5_000;
/** Each end of the growth figure is the median RSS over this long, s. */
const WINDOW_SEC = 60;
// The end window starts a full --minutes after the baseline window, and one reading more lets it fill.
const DURATION_SEC = BASELINE_SEC + MEASURED_SEC + WINDOW_SEC + SAMPLE_MS / 1_000;
const CONNECTIONS = Number(args.connections);
/** Requests per second per proxy, over all its connections. */
const RATE = Number(args.rate);
const MODES = args.modes.split(',').map((m) => m.trim()) as ('http' | 'tcp')[];

interface Soaked {
  mode: 'http' | 'tcp';
  proxy: NodeFixture;
  samples: Reading[];
  /** V8 heap in use right after a full GC at the end (bytes), with every connection open. */
  heapAfterGc?: number;
  /** Fewest open client connections seen after the first 10 s. */
  minOpen: number;
  stats?: SoakStats;
}

const mib = (bytes: number): string => (bytes / 1_048_576).toFixed(1);
const pct = (from: number, to: number): string => `${(((to - from) / from) * 100).toFixed(1)} %`;

const run = startBenchRun('memory-soak', { pin: !args['no-pin'] });
let exitCode = 0;
try {
  pinSelf(run.cpus.load);
  const upstream = await startNginxStatic({ group: run.group, dir: run.dir, cpu: run.cpus.load });
  const soaked: Soaked[] = [];
  for (const mode of MODES) {
    const proxy = await startNodeFixture(
      run.group,
      'faultline-proxy.ts',
      ['--mode', mode, '--upstream', `127.0.0.1:${upstream.port}`],
      { name: `faultline-${mode}`, cpu: run.cpus.proxy, nodeArgs: [...PROXY_NODE_FLAGS, '--expose-gc'] },
    );
    await proxy.request({
      op: 'apply',
      spec: { id: 'soak-latency-0', type: 'latency', params: { delayMs: 0 }, percent: 50, leaseMs: 0 },
    });
    soaked.push({ mode, proxy, samples: [], minOpen: Number.POSITIVE_INFINITY });
  }
  console.log(
    `soaking ${MODES.join(' + ')} for ${DURATION_SEC} s: ${CONNECTIONS} connections and ${RATE} req/s per proxy`,
  );
  const start = performance.now();
  const elapsedSec = (): number => Math.round((performance.now() - start) / 1_000);
  const sample = (): void => {
    const tSec = elapsedSec();
    for (const s of soaked) s.samples.push({ tSec, rss: rssBytes(s.proxy.pid) });
    console.log(
      `t=${String(tSec).padStart(4)} s  ${soaked.map((s) => `${s.mode} RSS ${mib(s.samples.at(-1)!.rss)} MiB`).join('  ')}`,
    );
  };
  sample();
  const sampler = setInterval(sample, SAMPLE_MS);
  try {
    await Promise.all(
      soaked.map(async (s) => {
        s.stats = await runSoak({
          url: `http://127.0.0.1:${s.proxy.port}/`,
          connections: CONNECTIONS,
          ratePerSec: RATE,
          durationSec: DURATION_SEC,
          onTick: (t) => {
            if (performance.now() - start > 10_000) s.minOpen = Math.min(s.minOpen, t.open);
          },
          beforeClose: async () => {
            // The RSS series ends here: the forced GC below would disturb any later reading.
            clearInterval(sampler);
            s.heapAfterGc = Number((await s.proxy.request({ op: 'gc' })).heapUsed);
          },
        });
      }),
    );
  } finally {
    clearInterval(sampler);
  }

  const checks: TargetCheck[] = [];
  const rows = soaked.map((s) => {
    const endFrom = BASELINE_SEC + MEASURED_SEC;
    const base = windowMedian(s.samples, BASELINE_SEC, WINDOW_SEC);
    const end = windowMedian(s.samples, endFrom, WINDOW_SEC);
    if (!base || !end) throw new Error(`${s.mode}: no RSS reading in a window (the soak ended early?)`);
    checks.push({
      what: `${s.mode} proxy RSS growth, ${BASELINE_SEC}–${BASELINE_SEC + WINDOW_SEC} s → ${endFrom}–${endFrom + WINDOW_SEC} s (medians over each minute)`,
      measured: pct(base.rss, end.rss),
      target: '< 10 %',
      met: (end.rss - base.rss) / base.rss < 0.1,
    });
    const st = s.stats!;
    const errors = Object.entries(st.errorKinds)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    return [
      s.mode,
      mib(s.samples[0]!.rss),
      `${mib(base.rss)} (t≈${base.tSec} s)`,
      `${mib(end.rss)} (t≈${end.tSec} s)`,
      pct(base.rss, end.rss),
      mib(s.heapAfterGc ?? Number.NaN),
      mib(Math.max(...s.samples.map((x) => x.rss))),
      fmtInt(st.ok),
      st.errors ? `${fmtInt(st.errors)} (${errors})` : '0',
      Number.isFinite(s.minOpen) ? fmtInt(s.minOpen) : 'n/a',
      fmtInt(st.dials),
    ];
  });
  const summary = markdownTable(
    [
      'proxy',
      'RSS at start (MiB)',
      'RSS baseline (MiB)',
      'RSS end (MiB)',
      'RSS growth',
      'V8 heap after GC, end (MiB)',
      'RSS max (MiB)',
      'requests ok',
      'errors',
      'fewest open connections',
      'dials',
    ],
    rows,
  );
  // One row a minute (or every sample for short runs) keeps the series readable.
  const everySec = DURATION_SEC >= 120 ? 60 : SAMPLE_MS / 1_000;
  const all = soaked[0]!.samples;
  const picked = new Set<Reading>([all.at(-1)!]);
  for (let t = 0; t <= DURATION_SEC; t += everySec) {
    const first = all.find((x) => x.tSec >= t);
    if (first) picked.add(first);
  }
  const indexes = [...picked].map((x) => all.indexOf(x)).sort((a, b) => a - b);
  const series = markdownTable(
    ['t (s)', ...soaked.map((s) => `${s.mode} RSS (MiB)`)],
    indexes.map((i) => [String(all[i]!.tSec), ...soaked.map((s) => mib(s.samples[i]?.rss ?? Number.NaN))]),
  );
  const short =
    MEASURED_SEC < 600 ? [`Shortened run (${MEASURED_SEC} s measured, not the full 10 minutes).`] : [];
  const body = [
    `${CONNECTIONS} keep-alive connections per proxy (one undici Client each), ${RATE} req/s per proxy round robin, ` +
      `${DURATION_SEC} s; 50 % of requests (HTTP) or connections (TCP) under a 0 ms latency fault. ` +
      `RSS of each proxy child from /proc every ${SAMPLE_MS / 1_000} s; growth compares the median reading of ` +
      `the ${WINDOW_SEC} s after ${BASELINE_SEC} s of load (meant to let start-up, JIT warm-up and the first filling ` +
      `of the fixed young generation pass) with that of the ${WINDOW_SEC} s starting ${MEASURED_SEC} s later. V8 heap in use after one forced GC at the end (after ` +
      'the last RSS reading) shows whether JavaScript objects pile up; RSS also holds pages V8 keeps.',
    '',
    summary,
    '',
    series,
    '',
    targetsTable(checks),
  ].join('\n');
  run.report(
    body,
    [
      ...short,
      ...soaked.map((s) => `Faultline ${s.mode} proxy via ${s.proxy.via}.`),
      PROXY_FLAGS_NOTE,
      'Upstream: nginx static file.',
    ],
    !args['no-write'],
  );
} catch (err) {
  console.error('memory-soak failed:', err);
  exitCode = 1;
} finally {
  await run.stop();
}
process.exit(exitCode);
