// Faultline's proxy against nginx, HAProxy and http-proxy, side by side in one run.
// Usage: npx node bench/proxy-throughput.ts [--rounds 3] [--duration 5] [--latency-duration 3]
//        [--connections 32] [--no-pin] [--no-write]
// Upstream: nginx serving a 128-byte static file (steadier than a Node upstream, so the figures
// measure the proxies). Each peer gets two wrk runs per round: -c32 for throughput and -c1 for
// the per-hop latency (at saturation p50 is queueing, not the hop; with one connection it is the
// hop). Rounds interleave the peers so drift on a shared machine spreads over all of them.
// For its c1 run each peer is moved onto the load generator's CPU: one request at a time then
// hops by context switches on one CPU. Left on its own CPU, every hop is a wake-up across CPUs,
// which on some VM hosts costs ~70 µs and swamps what the proxies themselves add.
import { parseArgs } from 'node:util';
import { type BenchRun, startBenchRun } from './support/bench-run.ts';
import { type NodeFixture, startNodeFixture } from './support/node-fixture.ts';
import { pairedRatio } from './support/paired-ratio.ts';
import { startHaproxy, startNginxProxy, startNginxStatic } from './support/peers.ts';
import { repin } from './support/processes.ts';
import { PROXY_FLAGS_NOTE, PROXY_NODE_FLAGS } from './support/proxy-node-flags.ts';
import {
  fmtInt,
  fmtRatio,
  fmtUs,
  markdownTable,
  median,
  type TargetCheck,
  targetsTable,
} from './support/report.ts';
import { runWrk, type WrkResult } from './support/wrk.ts';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    'latency-duration': { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    'no-pin': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(args.rounds);
const DURATION_SEC = Number(args.duration);
const LATENCY_DURATION_SEC = Number(args['latency-duration']);
const CONNECTIONS = Number(args.connections);

/** A 0 ms latency fault: the cost of having a fault on the data path, not of its delay. */
const ZERO_LATENCY_FAULT = { id: 'bench-latency-0', type: 'latency', params: { delayMs: 0 }, leaseMs: 0 };

interface Config {
  key: string;
  label: string;
  port: number;
  /** The peer's process, moved onto the load CPU for its c1 run; none for direct. */
  pid?: number;
  before?: () => Promise<unknown>;
  after?: () => Promise<unknown>;
}

interface Measured {
  throughput: WrkResult[];
  latency: WrkResult[];
}

async function startFaultline(
  run: BenchRun,
  mode: 'tcp' | 'http',
  upstreamPort: number,
): Promise<NodeFixture> {
  return startNodeFixture(
    run.group,
    'faultline-proxy.ts',
    ['--mode', mode, '--upstream', `127.0.0.1:${upstreamPort}`],
    {
      name: `faultline-${mode}`,
      cpu: run.cpus.proxy,
      nodeArgs: PROXY_NODE_FLAGS,
    },
  );
}

async function buildConfigs(
  run: BenchRun,
  problems: string[],
): Promise<{ configs: Config[]; via: string[] }> {
  const load = { group: run.group, dir: run.dir, cpu: run.cpus.load };
  const proxied = { group: run.group, dir: run.dir, cpu: run.cpus.proxy };
  const upstream = await startNginxStatic(load);
  const configs: Config[] = [{ key: 'direct', label: 'direct (no proxy)', port: upstream.port }];
  const via: string[] = [];
  const peers: [string, string, () => Promise<{ port: number; pid: number }>][] = [
    ['nginx', 'nginx 1.22 reverse proxy', () => startNginxProxy(proxied, upstream.port)],
    ['haproxy-http', 'HAProxy 2.6 mode http', () => startHaproxy(proxied, 'http', upstream.port)],
    ['haproxy-tcp', 'HAProxy 2.6 mode tcp', () => startHaproxy(proxied, 'tcp', upstream.port)],
    [
      'http-proxy',
      'http-proxy 1.18 (node)',
      () =>
        startNodeFixture(run.group, 'http-proxy-server.ts', ['--upstream', `127.0.0.1:${upstream.port}`], {
          name: 'http-proxy',
          cpu: run.cpus.proxy,
        }),
    ],
  ];
  for (const [key, label, start] of peers) {
    try {
      const { port, pid } = await start();
      configs.push({ key, label, port, pid });
    } catch (err) {
      problems.push(`${label} did not start: ${(err as Error).message}`);
    }
  }
  for (const mode of ['tcp', 'http'] as const) {
    try {
      const fl = await startFaultline(run, mode, upstream.port);
      via.push(`Faultline ${mode} runs via ${fl.via}`);
      configs.push({ key: `faultline-${mode}`, label: `Faultline ${mode}`, port: fl.port, pid: fl.pid });
      configs.push({
        key: `faultline-${mode}-fault0`,
        label: `Faultline ${mode} + 0 ms latency fault`,
        port: fl.port,
        pid: fl.pid,
        before: () => fl.request({ op: 'apply', spec: ZERO_LATENCY_FAULT }),
        after: () => fl.request({ op: 'reset' }),
      });
    } catch (err) {
      problems.push(`Faultline ${mode} proxy did not start: ${(err as Error).message}`);
    }
  }
  return { configs, via };
}

async function measure(run: BenchRun, configs: Config[]): Promise<Map<string, Measured>> {
  const results = new Map<string, Measured>(configs.map((c) => [c.key, { throughput: [], latency: [] }]));
  const url = (c: Config): string => `http://127.0.0.1:${c.port}/`;
  console.log(`warm-up: 1 s per peer (${configs.length} configurations)`);
  for (const c of configs) {
    await c.before?.();
    await runWrk({ url: url(c), connections: CONNECTIONS, durationSec: 1, cpu: run.cpus.load });
    await c.after?.();
  }
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the starting peer each round so no peer always runs first (or last).
    const order = configs.map((_, i) => configs[(i + round) % configs.length]!);
    for (const c of order) {
      await c.before?.();
      try {
        const t = await runWrk({
          url: url(c),
          connections: CONNECTIONS,
          durationSec: DURATION_SEC,
          cpu: run.cpus.load,
        });
        if (c.pid) repin(c.pid, run.cpus.load);
        let l: WrkResult;
        try {
          l = await runWrk({
            url: url(c),
            connections: 1,
            durationSec: LATENCY_DURATION_SEC,
            cpu: run.cpus.load,
          });
        } finally {
          if (c.pid) repin(c.pid, run.cpus.proxy);
        }
        results.get(c.key)!.throughput.push(t);
        results.get(c.key)!.latency.push(l);
        console.log(
          `round ${round + 1}/${ROUNDS} ${c.label.padEnd(38)} ${fmtInt(t.requestsPerSec).padStart(7)} req/s` +
            `  c1 p50 ${fmtUs(l.p50Us)}  errors ${t.socketErrors + t.non2xx + l.socketErrors + l.non2xx}`,
        );
      } finally {
        await c.after?.();
      }
    }
  }
  return results;
}

interface Row {
  rps: number;
  p50: number;
  p99: number;
  c1p50: number;
  c1p99: number;
  errors: number;
}

function summarize(m: Measured): Row {
  return {
    rps: median(m.throughput.map((r) => r.requestsPerSec)),
    p50: median(m.throughput.map((r) => r.p50Us)),
    p99: median(m.throughput.map((r) => r.p99Us)),
    c1p50: median(m.latency.map((r) => r.p50Us)),
    c1p99: median(m.latency.map((r) => r.p99Us)),
    errors: [...m.throughput, ...m.latency].reduce((a, r) => a + r.socketErrors + r.non2xx, 0),
  };
}

function targets(results: Map<string, Measured>, rows: Map<string, Row>, direct: Row): TargetCheck[] {
  const added = (key: string): number => {
    const r = rows.get(key);
    return r ? r.c1p50 - direct.c1p50 : Number.NaN;
  };
  const ratio = (what: string, a: string, b: string, goal: number): TargetCheck => {
    const { median: value, perRound } = pairedRatio(
      results.get(a)?.throughput.map((r) => r.requestsPerSec) ?? [],
      results.get(b)?.throughput.map((r) => r.requestsPerSec) ?? [],
    );
    return {
      what,
      measured: `${fmtRatio(value)} (per round ${perRound.map(fmtRatio).join(', ')})`,
      target: `≥ ${goal}`,
      met: Number.isFinite(value) ? value >= goal : undefined,
    };
  };
  const latency = (what: string, key: string, goalUs: number): TargetCheck => {
    const value = added(key);
    return {
      what,
      measured: fmtUs(value),
      target: `≤ ${goalUs} µs`,
      met: Number.isFinite(value) ? value <= goalUs : undefined,
    };
  };
  return [
    ratio('TCP req/s ÷ HAProxy (tcp) req/s', 'faultline-tcp', 'haproxy-tcp', 0.7),
    latency('TCP added p50 (c1, vs direct)', 'faultline-tcp', 80),
    ratio('HTTP req/s ÷ http-proxy req/s', 'faultline-http', 'http-proxy', 1.6),
    latency('HTTP added p50 (c1, vs direct)', 'faultline-http', 150),
    ratio('TCP 0 ms fault cost: req/s with ÷ without', 'faultline-tcp-fault0', 'faultline-tcp', 0.9),
    ratio('HTTP 0 ms fault cost: req/s with ÷ without', 'faultline-http-fault0', 'faultline-http', 0.9),
  ];
}

function render(configs: Config[], results: Map<string, Measured>): { body: string; allMet: boolean } {
  const rows = new Map(configs.map((c) => [c.key, summarize(results.get(c.key)!)]));
  const direct = rows.get('direct')!;
  const table = markdownTable(
    [
      'peer',
      `req/s (c${CONNECTIONS})`,
      `p50 (c${CONNECTIONS})`,
      `p99 (c${CONNECTIONS})`,
      'p50 (c1)',
      'p99 (c1)',
      'added p50 (c1)',
      'added p99 (c1)',
      'errors',
    ],
    configs.map((c) => {
      const r = rows.get(c.key)!;
      const isDirect = c.key === 'direct';
      return [
        c.label,
        fmtInt(r.rps),
        fmtUs(r.p50),
        fmtUs(r.p99),
        fmtUs(r.c1p50),
        fmtUs(r.c1p99),
        isDirect ? '—' : fmtUs(r.c1p50 - direct.c1p50),
        isDirect ? '—' : fmtUs(r.c1p99 - direct.c1p99),
        String(r.errors),
      ];
    }),
  );
  const ours = configs.filter((c) => c.key.startsWith('faultline'));
  const theirs = configs.filter((c) => !c.key.startsWith('faultline') && c.key !== 'direct');
  const ratioTable = markdownTable(
    ['req/s ratio (ours ÷ theirs)', ...theirs.map((t) => t.label)],
    ours.map((o) => [o.label, ...theirs.map((t) => fmtRatio(rows.get(o.key)!.rps / rows.get(t.key)!.rps))]),
  );
  // Added latency (over direct, at c1) as ours ÷ theirs; a peer that added nothing measurable has no ratio.
  const addedRatio = (o: Row, t: Row, pick: (r: Row) => number): string => {
    const theirsAdded = pick(t) - pick(direct);
    return theirsAdded > 0 ? fmtRatio((pick(o) - pick(direct)) / theirsAdded) : '—';
  };
  const addedTable = markdownTable(
    ['added latency ratio, c1 (ours ÷ theirs), p50 / p99', ...theirs.map((t) => t.label)],
    ours.map((o) => {
      const mine = rows.get(o.key)!;
      return [
        o.label,
        ...theirs.map((t) => {
          const other = rows.get(t.key)!;
          return `${addedRatio(mine, other, (r) => r.c1p50)} / ${addedRatio(mine, other, (r) => r.c1p99)}`;
        }),
      ];
    }),
  );
  const checks = targets(results, rows, direct);
  const body = [
    `Medians over ${ROUNDS} interleaved rounds; each round: \`wrk -t1 -c${CONNECTIONS} -d${DURATION_SEC}s --latency\` ` +
      `for throughput, then \`wrk -t1 -c1 -d${LATENCY_DURATION_SEC}s --latency\` for per-hop latency, ` +
      "with the peer moved onto the load generator's CPU for that run (hops by context switch, not by " +
      'wake-ups across CPUs). "added" = this peer minus direct, at c1. ' +
      'The ratio tables divide medians (below 1 is better for added latency, above 1 for req/s); the req/s targets take the median of per-round ratios (both peers ' +
      "of a pair run in the same round, the fault pairs back to back), with each round's ratio beside it.",
    '',
    table,
    '',
    ratioTable,
    '',
    addedTable,
    '',
    targetsTable(checks),
  ].join('\n');
  return { body, allMet: checks.every((c) => c.met === true) };
}

const run = startBenchRun('proxy-throughput', { pin: !args['no-pin'] });
let exitCode = 0;
try {
  const problems: string[] = [];
  const { configs, via } = await buildConfigs(run, problems);
  const results = await measure(run, configs);
  const { body, allMet } = render(configs, results);
  const notes = [
    'Upstream: nginx (1 worker) serving a 128-byte static file; every peer single-process, one thread or worker.',
    ...via,
    PROXY_FLAGS_NOTE,
    ...problems.map((p) => `PROBLEM: ${p}`),
  ];
  run.report(body, notes, !args['no-write']);
  if (problems.length) exitCode = 1;
  if (!allMet) console.log('some targets missed or not measured (see the targets table)');
} catch (err) {
  console.error('proxy-throughput failed:', err);
  exitCode = 1;
} finally {
  await run.stop();
}
process.exit(exitCode);
