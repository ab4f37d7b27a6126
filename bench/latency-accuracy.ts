// How exact is a 100 ms latency fault under load? Measured at half of the proxy's own peak, for
// the HTTP and the TCP proxy, side by side with the same load sent straight to the upstream.
// Usage: npx node bench/latency-accuracy.ts [--duration 10] [--warmup 2] [--delay-ms 100] [--rounds 1]
//        [--modes http,tcp] [--directions downstream,upstream] [--load 0.5,0.5w,0.25 | --rate N]
//        [--no-pin] [--no-write] [--no-reference]
//        [--proxy-node-args="--flag ..."] [--compare-node-args="--flag ..."] [--upstream-connections N]
// Per mode: peak = wrk -c32 through the proxy with no fault, and again over the connection count
// the paced run needs (a 100 ms delay holds rate × 0.1 s requests, each on its own connection);
// then an open-loop C client (bench/support/paced-client.c) at half of the second (--load 0.5w;
// `0.5` = half of the -c32 peak, figures only)
// against the upstream directly, the proxy without a fault, and the proxy with the fault per
// direction, interleaved over --rounds; each proxy's client keeps its connections from a warm-up
// (5 s runs until the proxy has had two GC pauses, at most 30 s) to its last run, so a fault meets traffic on established connections, as in a running
// service. Added = faulted minus no fault, same rate, same proxy process. Upstream: nginx static
// file. With --compare-node-args a second proxy process started with those Node/V8 flags runs the
// same conditions in the same rounds (figures only; verdicts are for the proxy as shipped). Unless
// --no-reference, a bare Node delayer (bench/fixtures/bare-delayer.ts: setTimeout per chunk or per
// request, nothing else) with the same flags runs the same conditions in the same rounds too: the
// tail any Node delayer shows on this host at this load, beside Faultline's (figures only). So does
// a delayer outside Node, written in C, on the same CPU: HAProxy with a Lua delay in HTTP mode
// (bench/support/haproxy-delayer.ts), bench/support/tcp-delayer.c in TCP mode (figures only).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Direction } from '../protocol/proxy.ts';
import { startBenchRun } from './support/bench-run.ts';
import { damonNote, kdamondCpuMs, readDamon } from './support/damon.ts';
import { buildFreezeWatch, type FreezeWatch, startFreezeWatch } from './support/freeze-watch.ts';
import { startHaproxyDelayer } from './support/haproxy-delayer.ts';
import { type Condition, runConditions } from './support/latency-conditions.ts';
import { modeReport, type ProxyRuns, type SoundnessLimits } from './support/latency-report.ts';
import {
  LOOP_PROBE_ENV,
  LOOP_PROBE_NODE_ARGS,
  LOOP_PROBE_RESOLUTION_MS,
  LOOP_PROBE_TIMER_ENV,
  readLoopStats,
} from './support/loop-stats.ts';
import { startNodeFixture } from './support/node-fixture.ts';
import { buildPacedClient, type PacedResult } from './support/paced-client.ts';
import { startNginxStatic } from './support/peers.ts';
import { PROXY_FLAGS_NOTE, PROXY_NODE_FLAGS } from './support/proxy-node-flags.ts';
import { fmtInt, fmtMs, quantile, type TargetCheck, targetsTable } from './support/report.ts';
import { buildTcpDelayer, startTcpDelayer } from './support/tcp-delayer.ts';
import { runWrk } from './support/wrk.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    /** Requests due in the first N s of each run are not reported (JIT and GC settle on a new fault). */
    warmup: { type: 'string', default: '2' },
    'delay-ms': { type: 'string', default: '100' },
    rounds: { type: 'string', default: '1' },
    modes: { type: 'string', default: 'http,tcp' },
    directions: { type: 'string', default: 'downstream,upstream' },
    /**
     * Paced loads as fractions of each proxy's measured peak: `0.5w` = of the peak over the paced
     * run's own connection count, `0.5` = of the -c32 peak. Targets are judged at the first `w` load
     * only: "half of peak" is half of what the proxy carries for the traffic being measured, and the
     * -c32 peak can be above that peak (TCP, 2026-12-03: 49,113 req/s over 32 connections, 20,394
     * over 5,419), so half of it is no half load (docs/performance-notes.md).
     */
    load: { type: 'string', default: '0.5w' },
    /** Fixed request rate (req/s) for every mode instead of --load. */
    rate: { type: 'string' },
    /** Extra Node/V8 flags for the proxy process (e.g. GC settings under study); recorded in the notes. */
    'proxy-node-args': { type: 'string', default: '' },
    /** Flags of a second proxy process measured side by side (figures only). */
    'compare-node-args': { type: 'string', default: '' },
    /** HTTP mode: the proxies' upstreamConnections instead of the product default (a study knob). */
    'upstream-connections': { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    'no-write': { type: 'boolean', default: false },
    /** Skip the reference delayers (bare Node; HAProxy with Lua or tcp-delayer.c) that run beside the proxy. */
    'no-reference': { type: 'boolean', default: false },
  },
});
const DURATION_SEC = Number(args.duration);
const WARMUP_SEC = Number(args.warmup);
const LOADS = args.load.split(',').map((spec) => {
  const m = /^(\d*\.?\d+)(w?)$/.exec(spec.trim());
  if (!m) throw new Error(`--load: "${spec}" is not a fraction such as 0.5 or 0.5w`);
  return { fraction: Number(m[1]), of: m[2] ? ('wide' as const) : ('c32' as const) };
});
const DELAY_MS = Number(args['delay-ms']);
const ROUNDS = Number(args.rounds);
const MODES = args.modes.split(',').map((m) => m.trim());
const DIRECTIONS = args.directions.split(',').map((d) => d.trim());
const PROXY_NODE_ARGS = args['proxy-node-args'].split(' ').filter(Boolean);
const COMPARE_NODE_ARGS = args['compare-node-args'].split(' ').filter(Boolean);
/** Most connections the paced client opens (each costs the TCP proxy two file descriptors). */
const MAX_CONNECTIONS = 6_000;
/** How the reference processes' rows are labelled. */
const REFERENCE_NAME = 'bare Node delayer';
const OUTSIDE_NAMES = { http: 'HAProxy Lua delayer', tcp: 'C epoll delayer' } as const;

/** The reference delayer outside Node for one mode, driven like a proxy's fault. */
interface OutsideReference {
  name: string;
  url: string;
  pid: number;
  setDelay(direction: Direction, ms: number): Promise<void>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}
/**
 * When a run's verdicts count: the client sent on time (the p50 verdict needs a punctual median
 * send, ms; the p99 verdict a punctual p99), at most 0.1 % of requests failed, the proxy did not
 * queue without the fault (no-fault p50 ≤ 10 ms), and the same load sent straight to the upstream
 * came back with p50 ≤ 0.25 ms (a load side that keeps up answers in 0.06–0.1 ms; it queued at
 * 0.45 ms when 10k req/s over 2,171 connections was more than its one CPU could send and serve).
 */
const LIMITS: SoundnessLimits = {
  clientLagP50Ms: 1,
  clientLagP99Ms: 5,
  maxErrorShare: 0.001,
  saturatedMs: 10,
  loadSideP50Ms: 0.25,
  hostFrozenShare: 0.01,
};

const run = startBenchRun('latency-accuracy', { pin: !args['no-pin'] });
const sections: string[] = [];
const notes: string[] = [];
const checks: TargetCheck[] = [];
let exitCode = 0;
let freezeWatch: FreezeWatch | undefined;
// The kernel's own periodic work on the bench's cores, recorded beside the figures it can shift.
const damonCpuAtStart = kdamondCpuMs();
const startedAt = performance.now();
try {
  const bin = buildPacedClient(run.dir);
  // Sees when the proxy's CPU itself does not run (the host's doing, not the proxy's).
  freezeWatch = startFreezeWatch(buildFreezeWatch(run.dir), run.cpus.proxy);
  const upstream = await startNginxStatic({ group: run.group, dir: run.dir, cpu: run.cpus.load });
  const direct = `http://127.0.0.1:${upstream.port}/`;
  /** A Faultline proxy (or the bare delayer) in its own process with the loop probe preloaded. */
  const startProxy = async (
    mode: string,
    name: string,
    nodeArgs: readonly string[],
    script = 'faultline-proxy.ts',
  ) => {
    const file = join(run.dir, `loop-${name}.json`);
    const proxy = await startNodeFixture(
      run.group,
      script,
      [
        '--mode',
        mode,
        '--upstream',
        `127.0.0.1:${upstream.port}`,
        ...(args['upstream-connections'] ? ['--upstream-connections', args['upstream-connections']] : []),
      ],
      {
        name,
        cpu: run.cpus.proxy,
        // The product's flags first: --proxy-node-args / --compare-node-args come later and win.
        nodeArgs: [...LOOP_PROBE_NODE_ARGS, ...PROXY_NODE_FLAGS, ...nodeArgs],
        env: { [LOOP_PROBE_ENV]: file, [LOOP_PROBE_TIMER_ENV]: String(DELAY_MS) },
      },
    );
    return { proxy, url: `http://127.0.0.1:${proxy.port}/`, probe: { pid: proxy.pid, file } };
  };
  for (const mode of MODES) {
    if (mode !== 'http' && mode !== 'tcp') throw new Error(`--modes: unknown mode ${mode}`);
    const main = await startProxy(mode, `faultline-${mode}`, PROXY_NODE_ARGS);
    const other = COMPARE_NODE_ARGS.length
      ? await startProxy(mode, `faultline-${mode}-compare`, COMPARE_NODE_ARGS)
      : undefined;
    const ref = args['no-reference']
      ? undefined
      : await startProxy(mode, `bare-${mode}`, PROXY_NODE_ARGS, 'bare-delayer.ts');
    const outside = args['no-reference'] ? undefined : await startOutsideReference(mode, upstream.port);
    await runWrk({ url: main.url, connections: 32, durationSec: 1, cpu: run.cpus.load });
    const peak = await runWrk({ url: main.url, connections: 32, durationSec: 5, cpu: run.cpus.load });
    // The compare proxy and the references get the same 6 s of wrk, so none meets the paced load cold.
    for (const url of [other?.url, ref?.url, outside?.url])
      if (url) await runWrk({ url, connections: 32, durationSec: 6, cpu: run.cpus.load });
    /**
     * One process's conditions: no fault, then the delay in each direction. `target` says how the
     * process is watched (a loop probe, or only its pid) and how its delay is switched on and off.
     */
    const conditionsOf = (
      name: string,
      faultWord: 'fault' | 'delay',
      target: Pick<Condition, 'url' | 'probe' | 'pid' | 'revert'> & {
        apply(direction: string): Promise<unknown>;
      },
    ): Condition[] => {
      const watched = { url: target.url, probe: target.probe, pid: target.pid };
      return [
        { label: `${name}, no fault`, ...watched },
        ...DIRECTIONS.map(
          (direction): Condition => ({
            label: `${name} + ${DELAY_MS} ms ${faultWord}, ${direction}`,
            ...watched,
            apply: () => target.apply(direction),
            revert: target.revert,
          }),
        ),
      ];
    };
    const proxyConditions = (p: typeof main, name: string): Condition[] =>
      conditionsOf(name, 'fault', {
        url: p.url,
        probe: p.probe,
        apply: (direction) =>
          p.proxy.request({
            op: 'apply',
            spec: {
              id: 'bench-latency',
              type: 'latency',
              direction,
              params: { delayMs: DELAY_MS },
              leaseMs: 0,
            },
          }),
        revert: () => p.proxy.request({ op: 'reset' }),
      });
    const outsideConditions = (o: OutsideReference): Condition[] =>
      conditionsOf(o.name, 'delay', {
        url: o.url,
        pid: o.pid,
        apply: (direction) => o.setDelay(direction === 'upstream' ? 'upstream' : 'downstream', DELAY_MS),
        revert: () => o.reset(),
      });
    /** Each process's conditions (no fault, then a fault per direction), in run order after direct. */
    const groups = [
      { conditions: proxyConditions(main, 'proxy'), main: true },
      ...(other
        ? [{ conditions: proxyConditions(other, `proxy (${COMPARE_NODE_ARGS.join(' ')})`), main: false }]
        : []),
      ...(ref ? [{ conditions: proxyConditions(ref, REFERENCE_NAME), main: false, reference: true }] : []),
      ...(outside ? [{ conditions: outsideConditions(outside), main: false, reference: true }] : []),
    ];
    const conditions: Condition[] = [
      { label: 'direct to upstream (no proxy)', url: direct },
      ...groups.flatMap((g) => g.conditions),
    ];
    // In flight at once ≈ rate × delay; twice that leaves room for jitter in the answers.
    const connectionsFor = (rate: number): number =>
      Math.min(MAX_CONNECTIONS, Math.ceil(((rate * (DELAY_MS + 10)) / 1_000) * 2) + 16);
    // The -c32 peak is not what the proxy carries over the connections a 100 ms delay needs (a
    // cold socket per request, no batching): measure that peak too, once per connection count.
    const widePeaks = new Map<number, { rps: number; cpu: number }>();
    const widePeak = async (connections: number) => {
      let w = widePeaks.get(connections);
      if (!w) {
        await readLoopStats(main.probe.pid, main.probe.file);
        const r = await runWrk({ url: main.url, connections, durationSec: 5, cpu: run.cpus.load });
        // The proxy's CPU shows whether it or the load side (wrk and nginx share a CPU) set the peak.
        const cpu = Math.round((await readLoopStats(main.probe.pid, main.probe.file)).cpuPercent);
        w = { rps: r.requestsPerSec, cpu };
        widePeaks.set(connections, w);
      }
      return w;
    };
    // The wide peak falls as the connections rise, and the connections a rate needs rise with the
    // rate: step to a count whose own peak's share needs no more connections than it has, so the
    // run is paced over the very connections its peak was measured over (2–3 wrk runs of 5 s).
    const wideConnections = async (start: number, fraction: number): Promise<number> => {
      let connections = connectionsFor((await widePeak(start)).rps * fraction);
      for (let step = 0; step < 3; step++) {
        const need = connectionsFor((await widePeak(connections)).rps * fraction);
        if (need <= connections) break;
        connections = need;
      }
      return connections;
    };
    let judgedWide = false;
    const rates = [];
    for (const load of args.rate ? [undefined] : LOADS) {
      if (!load) {
        const rate = Number(args.rate);
        const connections = connectionsFor(rate);
        rates.push({
          rate,
          connections,
          peakConnections: connections,
          what: 'the --rate given',
          judged: true,
        });
        continue;
      }
      // A wide load's peak is measured over the connections it will use, which depend on its rate:
      // start from the -c32 share (more connections, a lower peak).
      let connections = connectionsFor(peak.requestsPerSec * load.fraction);
      if (load.of === 'wide') connections = await wideConnections(connections, load.fraction);
      const base = load.of === 'wide' ? (await widePeak(connections)).rps : peak.requestsPerSec;
      const rate = Math.max(50, Math.floor(base * load.fraction));
      const judged = load.of === 'wide' && !judgedWide;
      if (load.of === 'wide') judgedWide = true;
      const what = `${load.fraction} × peak (${load.of === 'wide' ? `-c${connections}` : '-c32'})`;
      const peakConnections = load.of === 'wide' ? connections : connectionsFor(rate);
      // If the peak was noisy enough that the steps above ran out, the rate can outgrow its
      // connections: never pace short of them.
      rates.push({
        rate,
        connections: Math.max(peakConnections, connectionsFor(rate)),
        peakConnections,
        what,
        judged,
      });
    }
    for (const { rate, connections, peakConnections, what, judged } of rates) {
      const wide = await widePeak(peakConnections);
      const share = rate / wide.rps;
      console.log(
        `${mode}: peak ${fmtInt(peak.requestsPerSec)} req/s (-c32), ${fmtInt(wide.rps)} req/s (-c${peakConnections}, proxy CPU ${wide.cpu} %) → ` +
          `paced at ${fmtInt(rate)} req/s over ${fmtInt(connections)} connections (${what}; ${share.toFixed(2)} × the -c${peakConnections} peak)`,
      );
      const results = await runConditions({
        bin,
        freezeWatch,
        conditions,
        rounds: ROUNDS,
        paced: {
          ratePerSec: rate,
          durationSec: DURATION_SEC,
          warmupSec: WARMUP_SEC,
          connections,
          cpu: run.cpus.load,
        },
        onRun: (label, r) => console.log(`${mode} ${label.padEnd(40)} ${summary(r)}`),
      });
      const per = 1 + DIRECTIONS.length;
      const proxies = groups.map((g, n): ProxyRuns => {
        const at = 1 + n * per;
        return {
          base: results[at]!,
          faulted: DIRECTIONS.map((direction, i) => ({ direction, result: results[at + 1 + i]! })),
          judged: g.main && judged,
          reference: g.reference ?? false,
        };
      });
      const report = modeReport({
        mode: `${mode} at ${what}`,
        heading:
          `**${mode.toUpperCase()} proxy at ${what}** (Faultline via ${main.proxy.via}): ` +
          `peak ${fmtInt(peak.requestsPerSec)} req/s over 32 connections, ${fmtInt(wide.rps)} req/s over ${fmtInt(peakConnections)} ` +
          `(\`wrk -c${peakConnections}\`, no fault, proxy CPU ${wide.cpu} %); paced at ${fmtInt(rate)} req/s over ${fmtInt(connections)} ` +
          `keep-alive connections, ${share.toFixed(2)} × the second peak` +
          `${judged ? '.' : '; figures only (targets are judged at the first load of the second peak).'}`,
        delayMs: DELAY_MS,
        direct: results[0]!,
        proxies,
        limits: LIMITS,
      });
      if (report.saturated) exitCode = 1;
      checks.push(...report.checks);
      sections.push(report.markdown);
    }
    // The next mode's proxy gets CPU 1 and the upstream to itself.
    await main.proxy.stop();
    await other?.proxy.stop();
    await ref?.proxy.stop();
    await outside?.stop();
  }
  const body = [
    `Each mode: peak through the proxy with no fault (\`wrk -t1 -c32 -d5s\`), and again over as many connections as the paced run uses (its share of that second peak is in each heading), then an open-loop C client ` +
      `(bench/support/paced-client.c, \`cc -O2\`) at ${args.rate ? 'the --rate given' : `${args.load} × peak (\`w\`: of the second peak, where targets are judged; a bare fraction: of the -c32 peak, figures only)`}, ` +
      `${DURATION_SEC} s per run (first ${WARMUP_SEC} s dropped as warm-up), ${ROUNDS} interleaved round(s), samples pooled. ` +
      "Each proxy's client keeps its connections for all of that proxy's runs, after an unreported warm-up on them (5 s runs until the proxy has had two GC pauses, the scavenges that copy and promote the new connections' objects; at most 30 s), so faults are applied to traffic on established connections, not in the wake of thousands of new ones; the straight-to-upstream runs use a fresh client each. " +
      "Latency from each request's due time to the last byte of its answer (no coordinated omission). " +
      'Added = with the fault minus without it (same proxy process, same rate); ratio = added ÷ delay.',
    `Diagnostics: client send lag = when a request left minus when it was due (connection waits included); ` +
      `proxy timer lag = how late ${DELAY_MS} ms timers the probe starts in the proxy process every 5 ms fire (they share the loop and timer lists with the fault's); ` +
      `proxy loop delay = \`monitorEventLoopDelay\` there, sampled every ${LOOP_PROBE_RESOLUTION_MS} ms (included); ` +
      'GC = V8 pauses seen by a PerformanceObserver there (bench/support/loop-probe.ts, preloaded); ' +
      "CPU frozen = how late a real-time 1 ms sleeper pinned to the proxy's CPU woke, counted when over 5 ms (bench/support/freeze-watch.c): time in which the CPU did not run at all. " +
      "Waited for its CPU = the proxy's main thread's run-queue wait (Linux schedstat): time from each wake until it ran, and while another task held its core; times preempted = its involuntary context switches (another task took the core; the freeze watch wakes there 1,000 times a second, so roughly CPU share × 1,000 a second of them are its). " +
      `A run whose CPU was frozen for ${LIMITS.hostFrozenShare * 100} % of its time or more has its p99 verdicts void. ` +
      "With more than one round, a 'Per round' line gives each round's added p99 on its own (figures only; verdicts are on the pooled samples).",
    '',
    ...sections,
    targetsTable(checks),
  ].join('\n');
  // Other work on the machine sets the tails: record how busy it was when the runs ended too.
  notes.push(`\`uptime\` at the end: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
  const damon = damonNote(
    readDamon(),
    kdamondCpuMs() - damonCpuAtStart,
    (performance.now() - startedAt) / 1_000,
  );
  if (damon) notes.push(damon);
  if (args['upstream-connections'])
    notes.push(
      `HTTP proxies ran with upstreamConnections ${args['upstream-connections']} (not the default).`,
    );
  notes.push(PROXY_FLAGS_NOTE);
  if (PROXY_NODE_ARGS.length)
    notes.push(`The proxy also ran with \`${PROXY_NODE_ARGS.join(' ')}\` (not the default; these win).`);
  if (!args['no-reference']) {
    notes.push(
      `Rows "${REFERENCE_NAME}" are bench/fixtures/bare-delayer.ts, run in the same rounds with the proxy's flags: a node:net pipe (TCP) or a node:http server with one undici pool (HTTP) that waits setTimeout(${DELAY_MS}) per chunk or per request and does nothing else (no fault chain, metrics, backpressure, and it may be up to 1 ms early). Its tail is what Node and this host give any delayer at this load; figures only, no verdict.`,
    );
  }
  if (!args['no-reference'] && MODES.includes('http')) {
    notes.push(
      `Rows "${OUTSIDE_NAMES.http}" are HAProxy ${haproxyVersion()} with one thread, on the proxy's CPU, holding each request or response with bench/fixtures/haproxy-delay.lua (\`core.msleep(${DELAY_MS})\`, which yields to HAProxy's scheduler; whole ms, may be early by under 1 ms), run in the same rounds over kept connections (one 5 s warm-up run): the tail a C delayer outside Node shows on this host at this load; figures only, no verdict. Its CPU is read from /proc; it has no loop probe.`,
    );
  }
  if (!args['no-reference'] && MODES.includes('tcp')) {
    notes.push(
      `Rows "${OUTSIDE_NAMES.tcp}" are bench/support/tcp-delayer.c (\`cc -O2\`): one thread, epoll, each chunk held in one queue and written ${DELAY_MS} ms after it was read, timed by a timerfd in ns (never early), on the proxy's CPU, in the same rounds over kept connections (one 5 s warm-up run): the tail a C delayer outside Node shows on this host at this load (HAProxy's Lua hooks run once per TCP connection, not per chunk); figures only, no verdict. Its CPU is read from /proc.`,
    );
  }
  if (COMPARE_NODE_ARGS.length) {
    notes.push(
      `Rows marked (${COMPARE_NODE_ARGS.join(' ')}) are a second proxy process started with those flags, run in the same rounds; figures only, no verdict.`,
    );
  }
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
  await freezeWatch?.close();
  await run.stop();
}
process.exit(exitCode);

/**
 * HAProxy with a Lua delay (HTTP; its Lua hooks run per request in `mode http` but once per
 * connection in `mode tcp`) or tcp-delayer.c (TCP), on the proxy's CPU.
 */
async function startOutsideReference(mode: 'http' | 'tcp', upstreamPort: number): Promise<OutsideReference> {
  const cpu = run.cpus.proxy;
  if (mode === 'http') {
    const h = await startHaproxyDelayer({ group: run.group, dir: run.dir, cpu }, upstreamPort);
    return { ...h, name: OUTSIDE_NAMES.http, url: `http://127.0.0.1:${h.port}/` };
  }
  const t = await startTcpDelayer(buildTcpDelayer(run.dir), { upstreamPort, cpu });
  return { ...t, name: OUTSIDE_NAMES.tcp, url: `http://127.0.0.1:${t.port}/`, stop: t.close };
}

/** `2.6.12` from `haproxy -v`, for the notes. */
function haproxyVersion(): string {
  const out = execFileSync('haproxy', ['-v'], { encoding: 'utf8' });
  return /version (\S+)/i.exec(out)?.[1] ?? '(version unknown)';
}

function summary(r: PacedResult): string {
  const q = (p: number): string => fmtMs(quantile(r.latenciesMs, p), 3);
  const lag = fmtMs(quantile(r.sendLagMs, 0.99), 3);
  return `p50 ${q(0.5)}  p99 ${q(0.99)}  client lag p99 ${lag}  errors ${r.errors}`;
}
