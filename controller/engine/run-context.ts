import type { Experiment } from '../../protocol/experiment.ts';
import type { RunEnding, RunPhase } from '../../protocol/journal.ts';
import type { GuardSummary } from '../../protocol/verdict.ts';
import type { AdminClient } from '../dispatch/admin-client.ts';
import type { FaultExecutor, FaultHandle } from '../dispatch/fault-executor.ts';
import type { JournalWriter } from './journal-writer.ts';
import type { PlannedFault, RunPlan } from './run-plan.ts';

/** Why a run stops before its method ran its course. The first cause recorded wins. */
export type StopCause =
  | { ending: 'aborted'; guard: string; reason: string; breachSeenAt: number; abortDecidedAt: number }
  | { ending: 'interrupted' | 'halted' | 'failed'; reason: string };

export type FaultStatus = 'pending' | 'applying' | 'active' | 'reverting' | 'reverted' | 'failed';

export interface FaultState {
  planned: PlannedFault;
  status: FaultStatus;
  handle: FaultHandle | null;
  /** Set while an apply is in flight, so the revert path can wait for it. */
  applying: Promise<FaultHandle | null> | null;
  /** Set while a ramp re-apply is in flight; the revert waits for it. */
  updating: Promise<void> | null;
  /** Set once a revert started; reused so a fault is reverted (and journaled) once. */
  reverting: Promise<void> | null;
  appliedAt: number | null;
  revertedAt: number | null;
  percent: number;
}

/** Live, non-journaled updates for progress displays (the journal has the durable record). */
export type ProgressEvent =
  | { type: 'phase'; phase: RunPhase; at: number }
  | { type: 'guard'; guard: string; ok: boolean; failures: number; detail: string; at: number }
  | {
      type: 'ramp';
      stage: number;
      of: number;
      percent: number;
      stages: number[];
      stageDurationMs: number;
      at: number;
    }
  | { type: 'fault'; faultId: string; status: FaultStatus; at: number };

export interface RunState {
  phase: RunPhase;
  startedAt: number;
  /** When injection began (epoch ms); null before. */
  injectStartedAt: number | null;
  faults: Map<string, FaultState>;
  stopCause: StopCause | null;
  guards: Map<string, GuardSummary>;
  /** Current ramp percent; null when not ramping. */
  rampPercent: number | null;
  /** Time all faults were confirmed reverted (epoch ms). */
  allRevertedAt: number | null;
}

/** Everything a phase needs, passed as one object. */
export interface RunContext {
  runId: string;
  experiment: Experiment;
  plan: RunPlan;
  journal: JournalWriter;
  executor: FaultExecutor;
  /** Client of the proxy admin API, for metrics windows (budget and compare guards, proxyMetrics probes). */
  admin: AdminClient | null;
  proxyAdminUrl: string | null;
  state: RunState;
  /** Fires once, when the run is told to stop (breach, interrupt, failure). */
  stopSignal: AbortSignal;
  /** Records the cause and fires `stopSignal`. Returns false when a cause was already recorded. */
  stop(cause: StopCause): boolean;
  progress(event: ProgressEvent): void;
}

export function endingOf(cause: StopCause | null): RunEnding | null {
  return cause?.ending ?? null;
}
