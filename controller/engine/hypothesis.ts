import type { RunPhase } from '../../protocol/journal.ts';
import type { HypothesisResult, ProbeCheck } from '../../protocol/verdict.ts';
import { abortableSleep } from './abortable-sleep.ts';
import { ProbeChecker } from './probe-checker.ts';
import type { ProbeSample } from './probes/probe.ts';
import type { RunContext } from './run-context.ts';
import { type Baseline, captureBaseline } from './tolerance/baseline.ts';

/** Baseline of each hypothesis probe, captured in steady-state-before. */
export type Baselines = Map<string, Baseline>;

export interface HypothesisCheckOptions {
  phase: Extract<RunPhase, 'steady-state-before' | 'steady-state-after'>;
  /** Baselines to judge relative bounds against; null in steady-state-before (they are captured then). */
  baselines: Baselines | null;
  /** Samples per probe; default `settings.steadyStateSamples`. */
  samples?: number;
}

/**
 * Runs every hypothesis probe `steadyStateSamples` times, `probeInterval` apart (probes in
 * parallel). Before the faults a probe holds only when every sample met its tolerance (that is the
 * baseline the run is judged against); after them it holds when its last sample does (the samples
 * give the system `steadyStateSamples × probeInterval` to recover). The hypothesis holds when every
 * probe does. Before the faults, one extra sample per probe is taken first and discarded (warm-up).
 * Journals `hypothesis-checked`.
 */
export async function checkHypothesis(
  ctx: RunContext,
  opts: HypothesisCheckOptions,
): Promise<{ result: HypothesisResult; baselines: Baselines }> {
  const { probes } = ctx.experiment.spec.hypothesis;
  const settings = ctx.experiment.spec.settings;
  const samples = opts.samples ?? settings.steadyStateSamples;
  // The after-check must run even when the run was stopped; the before-check stops with the run.
  const signal = opts.phase === 'steady-state-before' ? ctx.stopSignal : new AbortController().signal;
  const baselines: Baselines = new Map();
  const perProbe = await Promise.all(
    probes.map(async (spec) => {
      const checker = new ProbeChecker(spec, ctx.proxyAdminUrl, opts.baselines?.get(spec.name));
      const taken: ProbeSample[] = [];
      // One discarded sample first: cold connections and JIT would otherwise skew the baseline.
      if (opts.phase === 'steady-state-before') await checker.warmUp(signal);
      let worst: ProbeCheck | null = null;
      let last: ProbeCheck | null = null;
      for (let i = 0; i < samples; i++) {
        if (i > 0) await abortableSleep(settings.probeInterval, signal);
        if (signal.aborted) break;
        const { sample, check } = await checker.check(signal);
        taken.push(sample);
        last = check;
        if (!check.ok && !worst) worst = check;
      }
      if (opts.baselines === null && taken.length > 0) baselines.set(spec.name, captureBaseline(taken));
      const judged = opts.phase === 'steady-state-before' ? (worst ?? last) : last;
      return (
        judged ?? { probe: spec.name, ok: false, reasons: ['not run (the run was stopped)'], observed: {} }
      );
    }),
  );
  const result: HypothesisResult = { ok: perProbe.every((p) => p.ok), samples, probes: perProbe };
  await ctx.journal.append('hypothesis-checked', { ...result }, { phase: opts.phase });
  return { result, baselines };
}

/** One sample of every probe, for ramp stages: does the hypothesis still hold right now? */
export async function checkHypothesisOnce(
  checkers: ProbeChecker[],
  signal: AbortSignal,
): Promise<{ ok: boolean; failed: { check: ProbeCheck; seenAt: number } | null }> {
  const outcomes = await Promise.all(checkers.map((c) => c.check(signal)));
  const bad = outcomes.find((o) => !o.check.ok);
  return { ok: !bad, failed: bad ? { check: bad.check, seenAt: bad.seenAt } : null };
}
