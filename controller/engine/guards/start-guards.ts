import type { Baselines } from '../hypothesis.ts';
import type { RunContext } from '../run-context.ts';
import { guardName } from '../run-plan.ts';
import { runBudgetGuard } from './budget-guard.ts';
import { runCompareGuard } from './compare-guard.ts';
import { runProbeGuard } from './probe-guard.ts';

/** Starts every guard of the experiment on its own timer; resolves when all have stopped (`signal`). */
export function startGuards(ctx: RunContext, baselines: Baselines, signal: AbortSignal): Promise<unknown> {
  return Promise.allSettled(
    ctx.experiment.spec.guards.map((g, i) => {
      const name = guardName(g, i);
      if ('probe' in g) return runProbeGuard(ctx, g, name, baselines, signal);
      if ('budget' in g) return runBudgetGuard(ctx, g, name, signal);
      return runCompareGuard(ctx, g, name, signal);
    }),
  );
}
