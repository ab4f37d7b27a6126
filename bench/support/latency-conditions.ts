import type { FreezeStats, FreezeWatch } from './freeze-watch.ts';
import { type LoopStats, readLoopStats } from './loop-stats.ts';
import {
  openPacedSession,
  type PacedOptions,
  type PacedResult,
  type PacedSession,
  runPaced,
} from './paced-client.ts';
import { cpuSeconds } from './processes.ts';
import { quantile } from './report.ts';

/** One way of sending the paced load (e.g. straight to the upstream, or through a faulted proxy). */
export interface Condition {
  label: string;
  url: string;
  /** The proxy child preloaded with loop-probe.ts, and the file it writes: its stats are read per run. */
  probe?: { pid: number; file: string };
  /**
   * A process under test that has no loop probe (a peer such as HAProxy): its client keeps its
   * connections as a probed proxy's does, and its CPU share is read from /proc per run.
   */
  pid?: number;
  /** Called before each of its runs (e.g. apply a fault) and after it (revert). */
  apply?: () => Promise<unknown>;
  revert?: () => Promise<unknown>;
}

/** One run's own figures (a condition runs once per round). */
export interface RunFigures {
  /** p99 latency of this run alone, ms. */
  p99Ms: number;
  /** The proxy's CPU during this run, % of one core; undefined for a condition without a probe. */
  cpuPercent?: number;
}

/** A condition's runs over every round, pooled. */
export interface ConditionResult {
  label: string;
  latenciesMs: Float64Array;
  sendLagMs: Float64Array;
  scheduled: number;
  errors: number;
  queued: number;
  /** The proxy's loop over this condition's runs: worst round for delays and longest pause, sums for GC. */
  loop?: LoopStats;
  /** How long the proxy's CPU did not run at all during this condition's runs (sums; longest). */
  freeze?: FreezeStats;
  /** Each round's run on its own, in round order: shows whether one round set the pooled tail. */
  perRound: RunFigures[];
}

export interface ConditionRunOptions {
  /** The compiled paced client (buildPacedClient). */
  bin: string;
  conditions: readonly Condition[];
  /** Rounds; each round runs every condition once, in order, so slow drift hits all alike. */
  rounds: number;
  paced: Omit<PacedOptions, 'url'>;
  /** Watches the proxy's CPU during each proxy run (conditions with a probe). */
  freezeWatch?: FreezeWatch;
  /** Called after each run with that run alone. */
  onRun?: (label: string, r: PacedResult) => void;
}

function concat(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function mergeLoop(a: LoopStats | undefined, b: LoopStats): LoopStats {
  if (!a) return b;
  const seconds = a.seconds + b.seconds;
  return {
    seq: b.seq,
    seconds,
    cpuPercent: (a.cpuPercent * a.seconds + b.cpuPercent * b.seconds) / seconds,
    cpuWaitMs: a.cpuWaitMs + b.cpuWaitMs,
    preemptions: a.preemptions + b.preemptions,
    delayP50Ms: Math.max(a.delayP50Ms, b.delayP50Ms),
    delayP99Ms: Math.max(a.delayP99Ms, b.delayP99Ms),
    delayMaxMs: Math.max(a.delayMaxMs, b.delayMaxMs),
    timerLagP50Ms: Math.max(a.timerLagP50Ms, b.timerLagP50Ms),
    timerLagP99Ms: Math.max(a.timerLagP99Ms, b.timerLagP99Ms),
    timerLagMaxMs: Math.max(a.timerLagMaxMs, b.timerLagMaxMs),
    gcPauses: a.gcPauses + b.gcPauses,
    gcTotalMs: a.gcTotalMs + b.gcTotalMs,
    gcMaxMs: Math.max(a.gcMaxMs, b.gcMaxMs),
    fullGcPauses: a.fullGcPauses + b.fullGcPauses,
    fullGcMaxMs: Math.max(a.fullGcMaxMs, b.fullGcMaxMs),
  };
}

function mergeFreeze(a: FreezeStats | undefined, b: FreezeStats): FreezeStats {
  if (!a) return b;
  return {
    seconds: a.seconds + b.seconds,
    freezes: a.freezes + b.freezes,
    frozenMs: a.frozenMs + b.frozenMs,
    longestMs: Math.max(a.longestMs, b.longestMs),
    realtime: a.realtime && b.realtime,
  };
}

/**
 * Length of each unreported warm-up run, s. A proxy gets them until its probe has seen the two
 * scavenges that copy and then promote the new connections' objects: 0.5–1 s apart in HTTP mode at
 * half of peak, but ~10 s apart in TCP mode, which allocates ~0.6 KB a request without a fault
 * (its 64 MB semi-space fills in ~11 s at 9,500 req/s).
 */
const WARMUP_RUN_SEC = 5;
/** Most warm-up runs a proxy gets, whatever its probe saw (6 × 5 s). */
const MAX_WARMUP_RUNS = 6;
/** Scavenges (GC pauses of any kind) a proxy's warm-up must contain. */
const WARMUP_GC_PAUSES = 2;

/**
 * Runs every condition per round. A proxy (a condition with a probe or a pid) is sent to by one
 * paced client whose connections stay open for all of that proxy's runs, and which first carries an
 * unreported warm-up (5 s runs until the proxy has had two GC pauses, at most 30 s; one run for a
 * proxy without a probe): a fault is applied to traffic already flowing on established connections,
 * as on a running service, and the proxy's cost of accepting (and, in TCP mode, dialling) thousands
 * of connections (the scavenges that copy and then promote their objects: 20–70 ms each on the
 * 2-core bench machine) is paid before the first reported run instead of inside every one. No forced
 * GC: after one `gc()` the proxy ran a full GC every ~1.2 s, in place of its scavenges, for the rest
 * of a traced run. Other conditions (the upstream straight) get a fresh client per run.
 */
export async function runConditions(opts: ConditionRunOptions): Promise<ConditionResult[]> {
  const read = (probe: { pid: number; file: string }): Promise<LoopStats> =>
    readLoopStats(probe.pid, probe.file);
  const { ratePerSec, durationSec, warmupSec, ...connections } = opts.paced;
  const phase = { ratePerSec, durationSec, warmupSec };
  const sessions = new Map<string, PacedSession>();
  try {
    for (const c of opts.conditions) {
      if ((!c.probe && c.pid === undefined) || sessions.has(c.url)) continue;
      const session = openPacedSession(opts.bin, { ...connections, url: c.url });
      sessions.set(c.url, session);
      const warmup = { ratePerSec, durationSec: WARMUP_RUN_SEC, warmupSec: WARMUP_RUN_SEC };
      // A peer without a probe has no GC to wait for: one run opens and warms its connections.
      if (!c.probe) {
        await session.run(warmup);
        continue;
      }
      await read(c.probe);
      let pauses = 0;
      for (let n = 0; n < MAX_WARMUP_RUNS && pauses < WARMUP_GC_PAUSES; n++) {
        await session.run(warmup);
        pauses += (await read(c.probe)).gcPauses;
      }
    }
    const runs = opts.conditions.map(() => [] as PacedResult[]);
    const cpus = opts.conditions.map(() => [] as (number | undefined)[]);
    const loops: (LoopStats | undefined)[] = opts.conditions.map(() => undefined);
    const freezes: (FreezeStats | undefined)[] = opts.conditions.map(() => undefined);
    for (let round = 0; round < opts.rounds; round++) {
      for (const [i, c] of opts.conditions.entries()) {
        await c.apply?.();
        try {
          const underTest = c.probe !== undefined || c.pid !== undefined;
          // Readings right before the run start the proxy's stats afresh.
          if (c.probe) await read(c.probe);
          if (underTest) await opts.freezeWatch?.read();
          const cpuAt = c.pid === undefined ? undefined : { s: cpuSeconds(c.pid), t: performance.now() };
          const session = sessions.get(c.url);
          const r = session
            ? await session.run(phase)
            : await runPaced(opts.bin, { ...opts.paced, url: c.url });
          let cpuPercent: number | undefined;
          if (c.probe) {
            const stats = await read(c.probe);
            cpuPercent = stats.cpuPercent;
            loops[i] = mergeLoop(loops[i], stats);
          } else if (cpuAt && c.pid !== undefined) {
            cpuPercent = ((cpuSeconds(c.pid) - cpuAt.s) * 100_000) / (performance.now() - cpuAt.t);
          }
          if (underTest && opts.freezeWatch) {
            freezes[i] = mergeFreeze(freezes[i], await opts.freezeWatch.read());
          }
          runs[i]!.push(r);
          cpus[i]!.push(cpuPercent);
          opts.onRun?.(c.label, r);
        } finally {
          await c.revert?.();
        }
      }
    }
    return collect(opts.conditions, { runs, cpus, loops, freezes });
  } finally {
    for (const s of sessions.values()) await s.close();
  }
}

/** What runConditions gathered, per condition (outer index) and round (inner). */
interface Gathered {
  runs: readonly PacedResult[][];
  cpus: readonly (number | undefined)[][];
  loops: readonly (LoopStats | undefined)[];
  freezes: readonly (FreezeStats | undefined)[];
}

function collect(
  conditions: readonly Condition[],
  { runs, cpus, loops, freezes }: Gathered,
): ConditionResult[] {
  return conditions.map((c, i) => {
    const rs = runs[i]!;
    return {
      label: c.label,
      latenciesMs: concat(rs.map((r) => r.latenciesMs)),
      sendLagMs: concat(rs.map((r) => r.sendLagMs)),
      scheduled: rs.reduce((n, r) => n + r.scheduled, 0),
      errors: rs.reduce((n, r) => n + r.errors, 0),
      queued: rs.reduce((n, r) => n + r.queued, 0),
      loop: loops[i],
      freeze: freezes[i],
      perRound: rs.map((r, round) => ({
        p99Ms: quantile(r.latenciesMs, 0.99),
        cpuPercent: cpus[i]![round],
      })),
    };
  });
}
