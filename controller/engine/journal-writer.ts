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
    return this.appendMany([{ type, data, ...opts }]).then((events) => events[0]!);
  }

  /** Records several events in one durable write, in order (one fsync instead of one each). */
  appendMany(
    items: { type: JournalEventType; data?: Record<string, unknown>; phase?: RunPhase; at?: number }[],
  ): Promise<JournalEvent[]> {
    if (items.length === 0) return Promise.resolve([]);
    // `at` is taken now (the step's time); `seq` when the write runs, so a failed write leaves
    // no gap that would make the store refuse every later event.
    const drafts = items.map((i) => ({
      runId: this.runId,
      at: i.at ?? Date.now(),
      type: i.type,
      ...(i.phase ? { phase: i.phase } : {}),
      data: i.data ?? {},
    }));
    const write = this.tail.then(async () => {
      const events: JournalEvent[] = drafts.map((d, k) => ({ ...d, seq: this.seq + k + 1 }));
      await (events.length === 1 ? this.store.appendEvent(events[0]!) : this.store.appendEvents(events));
      this.seq += events.length;
      return events;
    });
    // A failed write must not wedge later ones; the caller of this append sees the error.
    this.tail = write.then(
      () => {},
      () => {},
    );
    return write.then((events) => {
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
