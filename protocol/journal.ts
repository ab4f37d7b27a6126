import { z } from 'zod';

/**
 * Journal events of one run. The journal is append-only; an event is durable before the step it
 * records takes effect (see docs/journal.md). `data` is free-form per type and documented there.
 */
export const JOURNAL_EVENT_TYPES = [
  'run-planned',
  'phase-entered',
  'hypothesis-checked',
  'fault-applying',
  'fault-applied',
  'fault-apply-failed',
  'fault-updated',
  'fault-renewed',
  'fault-lost',
  'fault-reverting',
  'fault-reverted',
  'ramp-stage',
  'guard-sample',
  'breach-seen',
  'abort-decided',
  'all-faults-reverted',
  'rollback-run',
  'verdict',
] as const;
export const JournalEventType = z.enum(JOURNAL_EVENT_TYPES);
export type JournalEventType = z.infer<typeof JournalEventType>;

export const RUN_PHASES = [
  'planned',
  'steady-state-before',
  'injecting',
  'running',
  'reverting',
  'steady-state-after',
] as const;
export const RunPhase = z.enum(RUN_PHASES);
export type RunPhase = z.infer<typeof RunPhase>;

export const RUN_ENDINGS = ['completed', 'deviated', 'aborted', 'failed', 'interrupted', 'halted'] as const;
export const RunEnding = z.enum(RUN_ENDINGS);
export type RunEnding = z.infer<typeof RunEnding>;

export const JournalEvent = z.strictObject({
  runId: z.string().min(1),
  /** 1, 2, 3... per run, no gaps. */
  seq: z.number().int().positive(),
  /** Epoch ms when the event was recorded (for breach-seen: when the failing sample was seen). */
  at: z.number(),
  type: JournalEventType,
  phase: RunPhase.optional(),
  data: z.record(z.string(), z.unknown()).default({}),
});
export type JournalEvent = z.infer<typeof JournalEvent>;
export type JournalEventInput = z.input<typeof JournalEvent>;

/** One run as kept in the store (the journal is kept beside it). */
export const RunRecord = z.strictObject({
  runId: z.string(),
  experiment: z.string(),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
  /** Null while the run is still going (or was killed before its verdict). */
  ending: RunEnding.nullable(),
  /** The experiment as run (parsed), for replay and audit. */
  spec: z.unknown(),
  verdict: z.unknown().nullable(),
});
export type RunRecord = z.infer<typeof RunRecord>;

/** The file `faultline run --journal out.json` writes. */
export const JournalFile = z.strictObject({
  format: z.literal('faultline-journal/v1'),
  run: RunRecord,
  events: z.array(JournalEvent),
});
export type JournalFile = z.infer<typeof JournalFile>;
