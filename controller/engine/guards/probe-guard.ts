import type { ProbeGuard } from '../../../protocol/experiment-guards.ts';
import { reportBreach } from '../breach.ts';
import type { Baselines } from '../hypothesis.ts';
import { ProbeChecker } from '../probe-checker.ts';
import type { RunContext } from '../run-context.ts';
import { FailureCounter } from '../tolerance/failure-counter.ts';
import { guardLoop } from './guard-loop.ts';
import { recordGuardSample, registerGuard } from './guard-stats.ts';

/**
 * Runs a hypothesis probe every `every` against its tolerance (over its own sliding window,
 * relative to the baseline) and breaches after `failAfter` failures in a row or `m` of the last `n`.
 */
export async function runProbeGuard(
  ctx: RunContext,
  guard: ProbeGuard,
  name: string,
  baselines: Baselines,
  signal: AbortSignal,
): Promise<void> {
  const spec = ctx.experiment.spec.hypothesis.probes.find((p) => p.name === guard.probe);
  if (!spec) throw new Error(`guard ${name} names probe ${guard.probe}, which the hypothesis does not have`);
  const checker = new ProbeChecker(spec, ctx.proxyAdminUrl, baselines.get(spec.name));
  const counter = new FailureCounter(guard);
  const summary = registerGuard(ctx, name, 'probe');
  await guardLoop(guard.every, signal, async () => {
    const { check, seenAt } = await checker.check(signal);
    if (signal.aborted) return;
    const { breached, failures } = counter.record(check.ok);
    recordGuardSample(ctx, summary, {
      ok: check.ok,
      consecutiveFailures: failures,
      detail: check.ok ? 'ok' : check.reasons.join('; '),
      observed: check.observed,
      at: seenAt,
    });
    if (breached) {
      summary.breached = true;
      await reportBreach(ctx, {
        guard: name,
        reason: `probe ${spec.name}: ${check.reasons.join('; ')}`,
        seenAt,
        observed: check.observed,
      });
    }
  });
}
