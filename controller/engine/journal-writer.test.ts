import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../protocol/journal.ts';
import { SqliteRunStore } from '../store/sqlite-run-store.ts';
import { JournalWriter } from './journal-writer.ts';

describe('journal writer', () => {
  it('numbers events in the order appends are issued, even when issued concurrently', async () => {
    const store = new SqliteRunStore(':memory:');
    await store.createRun({ runId: 'r1', experiment: 'x', startedAt: 0, spec: {} });
    const j = new JournalWriter('r1', store);
    const seen: JournalEvent[] = [];
    j.subscribe((e) => seen.push(e));
    await Promise.all([
      j.append('run-planned'),
      j.appendMany([{ type: 'breach-seen', at: 5 }, { type: 'abort-decided' }]),
      j.append('verdict', { ending: 'aborted' }),
    ]);
    const stored = await store.events('r1');
    expect(stored.map((e) => [e.seq, e.type])).toEqual([
      [1, 'run-planned'],
      [2, 'breach-seen'],
      [3, 'abort-decided'],
      [4, 'verdict'],
    ]);
    expect(stored[1]!.at).toBe(5);
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    await store.close();
  });

  it('keeps journaling after one write fails, without leaving a gap in the numbering', async () => {
    const store = new SqliteRunStore(':memory:');
    await store.createRun({ runId: 'r1', experiment: 'x', startedAt: 0, spec: {} });
    const j = new JournalWriter('r1', store);
    await j.append('run-planned');
    // A data value JSON cannot hold makes the store's write fail.
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(j.append('guard-sample', circular)).rejects.toThrow();
    await j.append('verdict');
    expect((await store.events('r1')).map((e) => [e.seq, e.type])).toEqual([
      [1, 'run-planned'],
      [2, 'verdict'],
    ]);
    await store.close();
  });
});
