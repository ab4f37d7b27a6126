import {
  EXIT_CODES,
  type HypothesisResult,
  type RollbackResult,
  type Verdict,
} from '../../protocol/verdict.ts';
import type { RunContext } from './run-context.ts';

export interface VerdictInputs {
  before: HypothesisResult | null;
  after: HypothesisResult | null;
  rollbacks: RollbackResult[];
  endedAt: number;
}

/**
 * The ending: a stop cause decides it (aborted, failed, interrupted, halted); otherwise the
 * after-check does (completed when the hypothesis held again, deviated when it did not).
 */
export function buildVerdict(ctx: RunContext, v: VerdictInputs): Verdict {
  const { state } = ctx;
  const cause = state.stopCause;
  let ending: Verdict['ending'];
  let reason: string;
  if (cause) {
    ending = cause.ending;
    reason = cause.reason;
  } else if (v.after && !v.after.ok) {
    ending = 'deviated';
    const bad = v.after.probes.find((p) => !p.ok);
    reason = `the hypothesis did not hold after the faults were reverted${bad ? `: ${bad.probe}: ${bad.reasons.join('; ')}` : ''}`;
  } else {
    ending = 'completed';
    reason = 'the hypothesis held before and after; no guard breached';
  }
  const abort =
    cause?.ending === 'aborted' && state.allRevertedAt !== null
      ? {
          guard: cause.guard,
          reason: cause.reason,
          breachSeenAt: cause.breachSeenAt,
          abortDecidedAt: cause.abortDecidedAt,
          allFaultsRevertedAt: state.allRevertedAt,
          decisionLatencyMs: cause.abortDecidedAt - cause.breachSeenAt,
          abortLatencyMs: state.allRevertedAt - cause.breachSeenAt,
        }
      : null;
  return {
    runId: ctx.runId,
    experiment: ctx.experiment.metadata.name,
    ending,
    reason,
    startedAt: state.startedAt,
    endedAt: v.endedAt,
    durationMs: v.endedAt - state.startedAt,
    hypothesisBefore: v.before,
    hypothesisAfter: v.after,
    abort,
    faults: [...state.faults.values()].map((f) => ({
      id: f.planned.id,
      type: f.planned.request.type,
      target: f.planned.request.targetName,
      ...(f.planned.request.target.kind === 'proxy'
        ? { proxy: f.planned.request.target.proxy }
        : { proxy: '', agentId: f.planned.request.target.agentId }),
      appliedAt: f.appliedAt,
      revertedAt: f.revertedAt,
      percent: f.percent,
    })),
    guards: [...state.guards.values()].map((g) => ({ ...g })),
    rollbacks: v.rollbacks,
    rampStageReached: state.rampPercent,
    exitCode: EXIT_CODES[ending],
  };
}
