import type { GuardSummary } from '../../../protocol/verdict.ts';
import type { RunContext } from '../run-context.ts';

/** How often a passing guard sample is journaled, ms (failing ones always are). */
const PASSING_SAMPLE_JOURNAL_MS = 1_000;

const lastJournaled = new WeakMap<GuardSummary, number>();

export function registerGuard(ctx: RunContext, name: string, kind: GuardSummary['kind']): GuardSummary {
  const summary: GuardSummary = { name, kind, samples: 0, failures: 0, breached: false };
  ctx.state.guards.set(name, summary);
  return summary;
}

/** Counts one guard sample, reports it to progress and journals it (passing ones at most once a second). */
export function recordGuardSample(
  ctx: RunContext,
  summary: GuardSummary,
  sample: {
    ok: boolean;
    consecutiveFailures: number;
    detail: string;
    observed: Record<string, unknown>;
    at: number;
  },
): void {
  summary.samples++;
  if (!sample.ok) summary.failures++;
  ctx.progress({
    type: 'guard',
    guard: summary.name,
    ok: sample.ok,
    failures: sample.consecutiveFailures,
    detail: sample.detail,
    at: sample.at,
  });
  const last = lastJournaled.get(summary) ?? 0;
  if (!sample.ok || sample.at - last >= PASSING_SAMPLE_JOURNAL_MS) {
    lastJournaled.set(summary, sample.at);
    // Samples are evidence, not steps: a slow disk must not hold the guard back.
    void ctx.journal
      .append(
        'guard-sample',
        { guard: summary.name, ok: sample.ok, detail: sample.detail, observed: sample.observed },
        { phase: ctx.state.phase, at: sample.at },
      )
      .catch(() => {});
  }
}
