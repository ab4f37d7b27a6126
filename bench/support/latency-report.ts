import type { ConditionResult } from './latency-conditions.ts';
import { fmtInt, fmtMs, fmtRatio, markdownTable, quantile, type TargetCheck } from './report.ts';

/** Limits a run must keep for its verdicts to count. */
export interface SoundnessLimits {
  /** Client send lag limits, ms: above them the client, not the proxy, set that quantile. */
  clientLagP50Ms: number;
  clientLagP99Ms: number;
  /** Failed requests (share of those scheduled) above which a run's verdicts void. */
  maxErrorShare: number;
  /** No-fault p50, ms, above which the proxy is called saturated (it queued at this rate). */
  saturatedMs: number;
  /**
   * Direct-to-upstream p50, ms, above which the load side (client and upstream share one CPU)
   * queued at this rate: the proxy's figures then measure the load side too.
   */
  loadSideP50Ms: number;
  /**
   * Share of a run's time in which the proxy's CPU did not run at all (freeze-watch.c: wakes late by
   * over 5 ms, summed) at or above which its p99 verdicts void: a freeze that long holds 1 % of the
   * requests by itself, whatever the proxy does.
   */
  hostFrozenShare: number;
}

/** One proxy process's runs: without the fault, then with it per direction. */
export interface ProxyRuns {
  base: ConditionResult;
  faulted: { direction: string; result: ConditionResult }[];
  /** Verdicts are given for this proxy (the product as shipped); false = figures only. */
  judged: boolean;
  /**
   * A reference delayer (the bare Node one; one in C): the judged proxy's added latency is compared
   * with its.
   */
  reference?: boolean;
}

export interface ModeReport {
  markdown: string;
  checks: TargetCheck[];
  /** The judged proxy queued even without the fault: the mode's figures say nothing. */
  saturated: boolean;
}

const q = (r: ConditionResult, p: number): number => quantile(r.latenciesMs, p);
const lag = (r: ConditionResult, p: number): number => quantile(r.sendLagMs, p);

/** The tables of one mode (latency, diagnostics) and the target checks of its judged proxy. */
export function modeReport(opts: {
  mode: string;
  heading: string;
  delayMs: number;
  direct: ConditionResult;
  proxies: readonly ProxyRuns[];
  limits: SoundnessLimits;
}): ModeReport {
  const { mode, delayMs, direct, limits } = opts;
  const reasons: string[] = [];
  const sound = (r: ConditionResult, p: 0.5 | 0.99): boolean => {
    const limit = p === 0.5 ? limits.clientLagP50Ms : limits.clientLagP99Ms;
    let ok = true;
    if (lag(r, p) > limit) {
      reasons.push(`${r.label}: client send lag p${p * 100} ${fmtMs(lag(r, p), 3)} > ${limit} ms`);
      ok = false;
    }
    if (r.errors > r.scheduled * limits.maxErrorShare) {
      reasons.push(`${r.label}: ${r.errors} failed requests`);
      ok = false;
    }
    const f = r.freeze;
    if (p === 0.99 && f && f.frozenMs >= f.seconds * 1_000 * limits.hostFrozenShare) {
      reasons.push(
        `${r.label}: the proxy's CPU did not run for ${fmtMs(f.frozenMs, 1)} in ${f.seconds.toFixed(1)} s (longest ${fmtMs(f.longestMs, 1)}; host freezes)`,
      );
      ok = false;
    }
    return ok;
  };
  const checks: TargetCheck[] = [];
  const rows: string[][] = [latencyRow(direct, undefined, direct, delayMs)];
  const diag: string[][] = [diagRow(direct)];
  let saturated = false;
  const loadSideOk = q(direct, 0.5) <= limits.loadSideP50Ms;
  if (!loadSideOk) {
    reasons.push(
      `direct p50 ${fmtMs(q(direct, 0.5), 3)} > ${limits.loadSideP50Ms} ms (the client and upstream queued at this rate)`,
    );
  }
  const roundLines: string[] = [];
  for (const p of opts.proxies) {
    const line = perRoundLine(p);
    if (line) roundLines.push(line);
    rows.push(latencyRow(p.base, undefined, direct, delayMs));
    diag.push(diagRow(p.base));
    for (const f of p.faulted) {
      rows.push(latencyRow(f.result, p.base, direct, delayMs));
      diag.push(diagRow(f.result));
    }
    if (!p.judged) continue;
    saturated = q(p.base, 0.5) > limits.saturatedMs;
    if (saturated) {
      reasons.push(
        `no-fault p50 ${fmtMs(q(p.base, 0.5))} > ${limits.saturatedMs} ms (the proxy queued at this rate)`,
      );
    }
    const baseOk = { p50: sound(p.base, 0.5), p99: sound(p.base, 0.99) };
    for (const { direction, result: r } of p.faulted) {
      const p50Ok = loadSideOk && !saturated && baseOk.p50 && sound(r, 0.5);
      const added50 = q(r, 0.5) - q(p.base, 0.5);
      const added99 = q(r, 0.99) - q(p.base, 0.99);
      // Every faulted request waits at least the delay, so an added p99 below it means the
      // no-fault run's tail was the noisier one: a subtraction that says nothing of the fault.
      const tailSound = added99 >= delayMs;
      if (!tailSound) {
        reasons.push(`${r.label}: added p99 below the delay (the no-fault run had the noisier tail)`);
      }
      const p99Ok = p50Ok && baseOk.p99 && sound(r, 0.99) && tailSound;
      checks.push(
        {
          what: `${mode}: added p50, ${direction}`,
          measured: fmtMs(added50, 3),
          target: `${delayMs}–${delayMs + 2} ms`,
          met: p50Ok ? added50 >= delayMs && added50 <= delayMs + 2 : undefined,
        },
        {
          what: `${mode}: added p99, ${direction}`,
          measured: fmtMs(added99, 3),
          target: `≤ ${delayMs + 5} ms`,
          met: p99Ok ? added99 <= delayMs + 5 : undefined,
        },
      );
    }
  }
  const markdown = [
    opts.heading,
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
        `proxy ${delayMs} ms timer lag p50 / p99 / max`,
        'proxy loop delay p99 / max',
        'GC pauses: count / total / longest',
        'of them full GCs: count / longest',
        "proxy's CPU frozen: count / total / longest",
        'proxy waited for its CPU: total / times preempted',
      ],
      diag,
    ),
    '',
    ...roundLines.flatMap((l) => [l, '']),
    ...referenceLines(opts.proxies).flatMap((l) => [l, '']),
    ...(reasons.length ? [`Verdicts void: ${[...new Set(reasons)].join('; ')}.`, ''] : []),
  ].join('\n');
  return { markdown, checks, saturated };
}

/**
 * Added p99 of each round on its own (faulted run minus the same round's no-fault run), with the
 * proxy's CPU in that no-fault run: the pooled p99 can come from one round in which the host slowed
 * down. Figures only; verdicts stay on the pooled samples. Undefined for a single round.
 */
function perRoundLine(p: ProxyRuns): string | undefined {
  const rounds = p.base.perRound;
  if (rounds.length < 2) return undefined;
  const parts = rounds.map((base, i) => {
    const added = p.faulted.map((f) => {
      const run = f.result.perRound[i];
      return run ? fmtMs(run.p99Ms - base.p99Ms, 1) : 'n/a';
    });
    const cpu = base.cpuPercent === undefined ? '' : `, no-fault CPU ${Math.round(base.cpuPercent)} %`;
    return `round ${i + 1}: ${added.join(' / ')}${cpu}`;
  });
  const who = p.base.label.replace(/, no fault$/, '');
  const directions = p.faulted.map((f) => f.direction).join(' / ');
  return `Per round, ${who}: added p99 (${directions}) — ${parts.join('; ')}.`;
}

/**
 * The judged proxy's added p50 and p99 beside a reference delayer's (same load, same rounds), per
 * direction: what Faultline adds on top of what any Node delayer gets on this host. Figures only.
 */
function referenceLines(proxies: readonly ProxyRuns[]): string[] {
  const ours = proxies.find((p) => p.judged) ?? proxies.find((p) => !p.reference);
  const lines: string[] = [];
  for (const ref of proxies.filter((p) => p.reference)) {
    if (!ours) continue;
    const who = ref.base.label.replace(/, no fault$/, '');
    const parts = ours.faulted.flatMap(({ direction, result }) => {
      const theirs = ref.faulted.find((f) => f.direction === direction);
      if (!theirs) return [];
      const added = (r: ConditionResult, base: ConditionResult, p: number): number => q(r, p) - q(base, p);
      const o50 = added(result, ours.base, 0.5);
      const o99 = added(result, ours.base, 0.99);
      const t50 = added(theirs.result, ref.base, 0.5);
      const t99 = added(theirs.result, ref.base, 0.99);
      return [
        `${direction}: added p99 ${fmtMs(o99, 1)} against ${fmtMs(t99, 1)} (ours ÷ theirs ${fmtRatio(o99 / t99)}), ` +
          `added p50 ${fmtMs(o50, 1)} against ${fmtMs(t50, 1)}`,
      ];
    });
    if (parts.length) lines.push(`Faultline against the ${who}, same load and rounds — ${parts.join('; ')}.`);
  }
  return lines;
}

function latencyRow(
  r: ConditionResult,
  base: ConditionResult | undefined,
  direct: ConditionResult,
  delayMs: number,
): string[] {
  const added50 = base ? q(r, 0.5) - q(base, 0.5) : Number.NaN;
  const added99 = base ? q(r, 0.99) - q(base, 0.99) : Number.NaN;
  const isProxyBase = !base && r !== direct;
  return [
    r.label,
    fmtInt(r.latenciesMs.length),
    String(r.errors),
    fmtMs(q(r, 0.5), 3),
    fmtMs(q(r, 0.99), 3),
    fmtMs(q(r, 0.999), 3),
    base ? fmtMs(added50, 3) : '—',
    base ? fmtMs(added99, 3) : '—',
    base ? `${fmtRatio(added50 / delayMs)} / ${fmtRatio(added99 / delayMs)}` : '—',
    isProxyBase ? `${fmtRatio(q(r, 0.5) / q(direct, 0.5))} / ${fmtRatio(q(r, 0.99) / q(direct, 0.99))}` : '—',
  ];
}

/**
 * The proxy's CPU over a condition's runs, % of one core: its probe's, else the mean of its per-run
 * /proc readings.
 */
function cpuOf(r: ConditionResult): number | undefined {
  if (r.loop) return r.loop.cpuPercent;
  const cpus = r.perRound.flatMap((run) => (run.cpuPercent === undefined ? [] : [run.cpuPercent]));
  return cpus.length ? cpus.reduce((a, b) => a + b, 0) / cpus.length : undefined;
}

function diagRow(r: ConditionResult): string[] {
  const l = r.loop;
  const cpu = cpuOf(r);
  return [
    r.label,
    `${fmtMs(lag(r, 0.5), 3)} / ${fmtMs(lag(r, 0.99), 3)} / ${fmtMs(lag(r, 1), 2)}`,
    fmtInt(r.queued),
    cpu === undefined ? '—' : `${Math.round(cpu)} %`,
    l ? `${fmtMs(l.timerLagP50Ms, 3)} / ${fmtMs(l.timerLagP99Ms, 3)} / ${fmtMs(l.timerLagMaxMs)}` : '—',
    l ? `${fmtMs(l.delayP99Ms)} / ${fmtMs(l.delayMaxMs)}` : '—',
    l ? `${l.gcPauses} / ${fmtMs(l.gcTotalMs, 1)} / ${fmtMs(l.gcMaxMs, 1)}` : '—',
    l ? `${l.fullGcPauses} / ${fmtMs(l.fullGcMaxMs, 1)}` : '—',
    r.freeze ? `${r.freeze.freezes} / ${fmtMs(r.freeze.frozenMs, 1)} / ${fmtMs(r.freeze.longestMs, 1)}` : '—',
    l && Number.isFinite(l.cpuWaitMs) ? `${fmtMs(l.cpuWaitMs, 1)} / ${fmtInt(l.preemptions)}` : '—',
  ];
}
