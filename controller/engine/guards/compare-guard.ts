import type { CompareGuard } from '../../../protocol/experiment-guards.ts';
import type { WindowReport } from '../../../protocol/proxy.ts';
import { reportBreach } from '../breach.ts';
import type { RunContext } from '../run-context.ts';
import { cohortsFromWindow, compareCohorts } from '../stats/compare-cohorts.ts';
import { guardLoop } from './guard-loop.ts';
import { recordGuardSample, registerGuard } from './guard-stats.ts';

/** Longest window the proxy keeps, s. */
const MAX_WINDOW_S = 300;

/**
 * Compares the treatment cohort with control on one proxy every `every`, spending alpha across the
 * looks planned for the run (so looking often does not inflate false positives); a `regression`
 * decision is a breach.
 */
export async function runCompareGuard(
  ctx: RunContext,
  guard: CompareGuard,
  name: string,
  signal: AbortSignal,
): Promise<void> {
  const c = guard.compare;
  const summary = registerGuard(ctx, name, 'compare');
  const maxLooks = Math.max(1, Math.ceil(ctx.plan.predictedRunningMs / c.every));
  let look = 0;
  await guardLoop(c.every, signal, async () => {
    if (!ctx.admin) throw new Error('compare guard needs a proxy admin URL');
    const since = ctx.state.injectStartedAt ?? Date.now();
    const seconds = Math.min(MAX_WINDOW_S, Math.max(1, Math.ceil((Date.now() - since) / 1000)));
    let report: WindowReport;
    try {
      report = (
        await ctx.admin.send<WindowReport>(
          'GET',
          `/faultline/proxies/${encodeURIComponent(c.proxy)}/window?seconds=${seconds}&samples=true`,
        )
      ).body;
    } catch (err) {
      recordGuardSample(ctx, summary, {
        ok: false,
        consecutiveFailures: 0,
        detail: `window unavailable: ${(err as Error).message}`,
        observed: {},
        at: Date.now(),
      });
      return;
    }
    const cohorts = cohortsFromWindow(report);
    const base = { alpha: c.alpha, minSamples: c.minSamples, minEffectMs: c.minEffectMs, maxLooks };
    const nextLook = look + 1;
    const result =
      c.metric === 'latency'
        ? compareCohorts({
            ...base,
            metric: 'latency',
            look: nextLook,
            ...(cohorts.latency ?? { control: [], treatment: [] }),
          })
        : compareCohorts({ ...base, metric: 'errorRate', look: nextLook, ...cohorts.errorRate });
    // Only looks that actually tested spend alpha.
    if (result.decision !== 'inconclusive') look = nextLook;
    const at = Date.now();
    const observed = {
      decision: result.decision,
      pValue: result.pValue,
      threshold: result.threshold,
      effect: result.effect,
      look,
      maxLooks,
      ...result.n,
    };
    const breached = result.decision === 'regression';
    recordGuardSample(ctx, summary, {
      ok: !breached,
      consecutiveFailures: breached ? 1 : 0,
      detail: `${result.decision} p=${result.pValue.toPrecision(3)} effect=${result.effect.toFixed(c.metric === 'latency' ? 1 : 4)}`,
      observed,
      at,
    });
    if (breached) {
      summary.breached = true;
      const unit = c.metric === 'latency' ? ' ms median' : ' error rate';
      await reportBreach(ctx, {
        guard: name,
        reason: `treatment is worse than control on ${c.proxy} (+${result.effect.toFixed(c.metric === 'latency' ? 1 : 4)}${unit}, p=${result.pValue.toPrecision(3)} ≤ ${result.threshold.toPrecision(3)})`,
        seenAt: at,
        observed,
      });
    }
  });
}
