import { abortableSleep } from './abortable-sleep.ts';
import { reportBreach } from './breach.ts';
import { updateFaultPercent } from './fault-lifecycle.ts';
import { type Baselines, checkHypothesisOnce } from './hypothesis.ts';
import { ProbeChecker } from './probe-checker.ts';
import type { RunContext } from './run-context.ts';

/**
 * Grows the blast radius stage by stage: every `stageDuration` the hypothesis is checked once and,
 * only if it still holds, every active fault is re-applied (same id) at the next stage's percent.
 * A failed check is a breach (the run aborts at the current stage).
 */
export async function runRamp(ctx: RunContext, baselines: Baselines, signal: AbortSignal): Promise<void> {
  const ramp = ctx.plan.rampUp;
  if (!ramp) return;
  const checkers = ctx.experiment.spec.hypothesis.probes.map(
    (p) => new ProbeChecker(p, ctx.proxyAdminUrl, baselines.get(p.name)),
  );
  const announce = async (i: number) => {
    const percent = ramp.stages[i]!;
    ctx.progress({
      type: 'ramp',
      stage: i + 1,
      of: ramp.stages.length,
      percent,
      stages: ramp.stages,
      stageDurationMs: ramp.stageDurationMs,
      at: Date.now(),
    });
    await ctx.journal.append(
      'ramp-stage',
      { stage: i + 1, of: ramp.stages.length, percent },
      { phase: ctx.state.phase },
    );
  };
  await announce(0);
  for (let i = 1; i < ramp.stages.length; i++) {
    await abortableSleep(ramp.stageDurationMs, signal);
    if (signal.aborted) return;
    const held = await checkHypothesisOnce(checkers, signal);
    if (signal.aborted) return;
    if (!held.ok && held.failed) {
      await reportBreach(ctx, {
        guard: 'ramp',
        reason: `hypothesis failed at ramp stage ${i} (${ramp.stages[i - 1]}%): ${held.failed.check.probe}: ${held.failed.check.reasons.join('; ')}`,
        seenAt: held.failed.seenAt,
        observed: held.failed.check.observed,
      });
      return;
    }
    const percent = ramp.stages[i]!;
    ctx.state.rampPercent = percent;
    await announce(i);
    await Promise.all([...ctx.state.faults.values()].map((f) => updateFaultPercent(ctx, f, percent)));
  }
}
