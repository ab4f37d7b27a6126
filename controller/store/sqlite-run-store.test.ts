import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteRunStore } from './sqlite-run-store.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-store-'));
  dirs.push(dir);
  return join(dir, 'nested', 'faultline.db');
}

describe('sqlite run store', () => {
  it('keeps a run and its journal across reopening the file', async () => {
    const path = tempDbPath();
    const store = new SqliteRunStore(path);
    await store.createRun({ runId: 'r1', experiment: 'x', startedAt: 1000, spec: { a: 1 } });
    await store.appendEvent({ runId: 'r1', seq: 1, at: 1001, type: 'run-planned', data: {} });
    await store.appendEvent({
      runId: 'r1',
      seq: 2,
      at: 1002,
      type: 'phase-entered',
      phase: 'injecting',
      data: { x: 1 },
    });
    await store.finishRun('r1', { endedAt: 2000, ending: 'aborted', verdict: { ok: false } });
    await store.close();

    const again = new SqliteRunStore(path);
    const run = await again.getRun('r1');
    expect(run).toMatchObject({
      runId: 'r1',
      ending: 'aborted',
      endedAt: 2000,
      spec: { a: 1 },
      verdict: { ok: false },
    });
    const events = await again.events('r1');
    expect(events.map((e) => [e.seq, e.type, e.phase])).toEqual([
      [1, 'run-planned', undefined],
      [2, 'phase-entered', 'injecting'],
    ]);
    expect((await again.listRuns()).map((r) => r.runId)).toEqual(['r1']);
    await again.close();
  });

  it('refuses an event whose sequence number skips or repeats', async () => {
    const store = new SqliteRunStore(':memory:');
    await store.createRun({ runId: 'r1', experiment: 'x', startedAt: 1, spec: {} });
    await store.appendEvent({ runId: 'r1', seq: 1, at: 1, type: 'run-planned', data: {} });
    await expect(
      store.appendEvent({ runId: 'r1', seq: 1, at: 2, type: 'verdict', data: {} }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await expect(
      store.appendEvent({ runId: 'r1', seq: 3, at: 2, type: 'verdict', data: {} }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await store.close();
  });

  it('writes a batch of events all together or not at all', async () => {
    const store = new SqliteRunStore(':memory:');
    await store.createRun({ runId: 'r1', experiment: 'x', startedAt: 1, spec: {} });
    await store.appendEvents([
      { runId: 'r1', seq: 1, at: 1, type: 'breach-seen', data: {} },
      { runId: 'r1', seq: 2, at: 2, type: 'abort-decided', data: {} },
    ]);
    await expect(
      store.appendEvents([
        { runId: 'r1', seq: 3, at: 3, type: 'fault-reverting', data: {} },
        { runId: 'r1', seq: 5, at: 3, type: 'fault-reverting', data: {} },
      ]),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await store.events('r1')).map((e) => e.type)).toEqual(['breach-seen', 'abort-decided']);
    await store.close();
  });

  it('reports finishing an unknown run as NOT_FOUND', async () => {
    const store = new SqliteRunStore(':memory:');
    await expect(
      store.finishRun('nope', { endedAt: 1, ending: 'failed', verdict: null }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await store.close();
  });
});
