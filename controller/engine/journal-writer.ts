import type { JournalEvent, JournalEventType, RunPhase } from '../../protocol/journal.ts';
import type { RunStore } from '../store/run-store.ts';

export type JournalListener = (event: JournalEvent) => void;

/**
 * Appends a run's events in order. Each `append` resolves once the store made the event durable;
 * the engine awaits it before taking the step the event records. Appends are chained so `seq`
 * stays gap-free even when guards and the method write at the same time.
 */
export class JournalWriter {
  readonly runId: string;
  private readonly store: RunStore;
  private readonly listeners = new Set<JournalListener>();
  private readonly kept: JournalEvent[] = [];
  private seq = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(runId: string, store: RunStore) {
    this.runId = runId;
    this.store = store;
  }

  /**
   * Records one event. `at` defaults to now (epoch ms); breach-seen passes the time the failing
   * sample was seen.
   */
  append(
    type: JournalEventType,
    data: Record<string, unknown> = {},
    opts: { phase?: RunPhase; at?: number } = {},
  ): Promise<JournalEvent> {
    const event: JournalEvent = {
      runId: this.runId,
      seq: ++this.seq,
      at: opts.at ?? Date.now(),
      type,
      ...(opts.phase ? { phase: opts.phase } : {}),
      data,
    };
    const write = this.tail.then(() => this.store.appendEvent(event));
    // A failed write must not wedge later ones; the caller of this append sees the error.
    this.tail = write.catch(() => {});
    return write.then(() => {
      this.kept.push(event);
      for (const l of this.listeners) l(event);
      return event;
    });
  }

  /** Records several events in one durable write, in order (one fsync instead of one each). */
  appendMany(
    items: { type: JournalEventType; data?: Record<string, unknown>; phase?: RunPhase; at?: number }[],
  ): Promise<JournalEvent[]> {
    if (items.length === 0) return Promise.resolve([]);
    const events: JournalEvent[] = items.map((i) => ({
      runId: this.runId,
      seq: ++this.seq,
      at: i.at ?? Date.now(),
      type: i.type,
      ...(i.phase ? { phase: i.phase } : {}),
      data: i.data ?? {},
    }));
    const write = this.tail.then(() => this.store.appendEvents(events));
    this.tail = write.catch(() => {});
    return write.then(() => {
      for (const event of events) {
        this.kept.push(event);
        for (const l of this.listeners) l(event);
      }
      return events;
    });
  }

  /** Events written so far, in order. */
  events(): readonly JournalEvent[] {
    return this.kept;
  }

  subscribe(listener: JournalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when every append issued so far has been written. */
  flushed(): Promise<void> {
    return this.tail;
  }
}
