import type { BudgetGuard } from '../../../protocol/experiment-guards.ts';
import type { WindowReport } from '../../../protocol/proxy.ts';
import { reportBreach } from '../breach.ts';
import type { RunContext } from '../run-context.ts';
import { guardLoop } from './guard-loop.ts';
import { recordGuardSample, registerGuard } from './guard-stats.ts';

/** Fewest requests in the window before the failed-request budget is judged (one failure of three is noise). */
const MIN_REQUESTS = 20;

/**
 * The failed-request budget: reads the proxy's window every probe interval and breaches when more
 * than `failedRequestsPercent` of requests failed. (`maxTargets` is enforced before each apply.)
 */
export async function runBudgetGuard(
  ctx: RunContext,
  guard: BudgetGuard,
  name: string,
  signal: AbortSignal,
): Promise<void> {
  const b = guard.budget;
  if (b.failedRequestsPercent === undefined) return;
  const limit = b.failedRequestsPercent;
  const proxies = b.proxy ? [b.proxy] : ctx.plan.blastRadius.proxies;
  const summary = registerGuard(ctx, name, 'budget');
  const seconds = Math.max(1, Math.round(b.window / 1000));
  await guardLoop(ctx.experiment.spec.settings.probeInterval, signal, async () => {
    if (!ctx.admin) throw new Error('budget guard needs a proxy admin URL');
    for (const proxy of proxies) {
      let report: WindowReport;
      try {
        report = (
          await ctx.admin.send<WindowReport>(
            'GET',
            `/faultline/proxies/${encodeURIComponent(proxy)}/window?seconds=${seconds}`,
          )
        ).body;
      } catch (err) {
        recordGuardSample(ctx, summary, {
          ok: false,
          consecutiveFailures: 0,
          detail: (err as Error).message,
          observed: { proxy },
          at: Date.now(),
        });
        continue;
      }
      const at = Date.now();
      const percent = report.all.errorRate * 100;
      const breached = report.all.requests >= MIN_REQUESTS && percent > limit;
      const observed = {
        proxy,
        requests: report.all.requests,
        errors: report.all.errors,
        failedPercent: percent,
        limit,
      };
      recordGuardSample(ctx, summary, {
        ok: !breached,
        consecutiveFailures: breached ? 1 : 0,
        detail: `${percent.toFixed(2)}% of ${report.all.requests} failed on ${proxy}`,
        observed,
        at,
      });
      if (breached) {
        summary.breached = true;
        await reportBreach(ctx, {
          guard: name,
          reason: `${percent.toFixed(2)}% of requests through ${proxy} failed over ${seconds}s (budget ${limit}%)`,
          seenAt: at,
          observed,
        });
        return;
      }
    }
  });
}
