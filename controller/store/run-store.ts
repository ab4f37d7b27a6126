import type { JournalEvent, RunEnding, RunRecord } from '../../protocol/journal.ts';

export interface NewRun {
  runId: string;
  experiment: string;
  startedAt: number;
  spec: unknown;
}

export interface RunEndUpdate {
  endedAt: number;
  ending: RunEnding;
  verdict: unknown;
}

/**
 * Where runs and their journals live. One interface; sqlite (default) today, PostgreSQL later.
 * Every method resolves only once the write is durable, so the engine can await an event before
 * it takes the step the event records.
 */
export interface RunStore {
  createRun(run: NewRun): Promise<void>;
  /** Appends one event; `seq` must be the run's next number (gaps and repeats are refused). */
  appendEvent(event: JournalEvent): Promise<void>;
  /** Appends several events of one run in one durable write (all or none). */
  appendEvents(events: JournalEvent[]): Promise<void>;
  finishRun(runId: string, end: RunEndUpdate): Promise<void>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** Newest first. */
  listRuns(opts?: { limit?: number }): Promise<RunRecord[]>;
  /** The run's journal in `seq` order. */
  events(runId: string): Promise<JournalEvent[]>;
  close(): Promise<void>;
}
