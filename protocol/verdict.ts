import { z } from 'zod';
import { RunEnding } from './journal.ts';

export const ProbeCheck = z.object({
  probe: z.string(),
  ok: z.boolean(),
  reasons: z.array(z.string()),
  observed: z.record(z.string(), z.union([z.number(), z.string()])),
});
export type ProbeCheck = z.infer<typeof ProbeCheck>;

export const HypothesisResult = z.object({
  ok: z.boolean(),
  /** Samples taken per probe. */
  samples: z.number().int(),
  probes: z.array(ProbeCheck),
});
export type HypothesisResult = z.infer<typeof HypothesisResult>;

/** Breach → decision → every fault confirmed reverted, all epoch ms. */
export const AbortTiming = z.object({
  guard: z.string(),
  reason: z.string(),
  breachSeenAt: z.number(),
  abortDecidedAt: z.number(),
  allFaultsRevertedAt: z.number(),
  /** abortDecidedAt − breachSeenAt, ms. */
  decisionLatencyMs: z.number(),
  /** allFaultsRevertedAt − breachSeenAt, ms: the figure the promise is about. */
  abortLatencyMs: z.number(),
});
export type AbortTiming = z.infer<typeof AbortTiming>;

export const FaultSummary = z.object({
  id: z.string(),
  type: z.string(),
  target: z.string(),
  /** The proxy the fault was on; empty for an agent fault. */
  proxy: z.string(),
  /** The agent the fault was on (agent faults only). */
  agentId: z.string().optional(),
  appliedAt: z.number().nullable(),
  revertedAt: z.number().nullable(),
  /** Percent at the end of the run (ramp stages change it). */
  percent: z.number(),
});
export type FaultSummary = z.infer<typeof FaultSummary>;

export const GuardSummary = z.object({
  name: z.string(),
  kind: z.enum(['probe', 'budget', 'compare']),
  samples: z.number().int(),
  failures: z.number().int(),
  breached: z.boolean(),
});
export type GuardSummary = z.infer<typeof GuardSummary>;

export const RollbackResult = z.object({
  name: z.string(),
  ok: z.boolean(),
  detail: z.string(),
});
export type RollbackResult = z.infer<typeof RollbackResult>;

/** Exit code of `faultline run` for each ending. */
export const EXIT_CODES = {
  completed: 0,
  deviated: 1,
  invalid: 2,
  aborted: 3,
  failed: 4,
  interrupted: 5,
  halted: 5,
} as const;

export const Verdict = z.object({
  runId: z.string(),
  experiment: z.string(),
  ending: RunEnding,
  /** One line on why the run ended this way. */
  reason: z.string(),
  startedAt: z.number(),
  endedAt: z.number(),
  durationMs: z.number(),
  hypothesisBefore: HypothesisResult.nullable(),
  /** Null when the after-check was skipped (nothing was applied). */
  hypothesisAfter: HypothesisResult.nullable(),
  abort: AbortTiming.nullable(),
  faults: z.array(FaultSummary),
  guards: z.array(GuardSummary),
  rollbacks: z.array(RollbackResult),
  /** Highest ramp stage (percent) reached, when the experiment ramps. */
  rampStageReached: z.number().nullable(),
  exitCode: z.number().int(),
});
export type Verdict = z.infer<typeof Verdict>;
