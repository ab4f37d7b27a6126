import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, rssMb, waitFor } from '../test-support/proc-stats.ts';
import { killTagged, spawnTagged } from './tagged-process.ts';
import { workerPath } from './worker-processes.ts';

const tag = { faultId: 'gate-1', agentId: `test-gate-${process.pid}` };

afterEach(async () => {
  await killTagged([], { agentId: tag.agentId });
});

describe('worker start gate', () => {
  it('holds a memory worker before it allocates until it is told go', async () => {
    const worker = spawnTagged(workerPath('memory-worker.ts'), tag, [
      '--rate-mb-per-sec',
      '0',
      '--max-mb',
      '200',
    ]);
    // Node has started once it holds ~45 MiB of its own; without a gate the 200 MiB would follow at once.
    await waitFor(() => rssMb(worker.ref.pid) > 30, 3_000, 'the worker to start');
    await sleep(500);
    expect(isAlive(worker.ref.pid)).toBe(true);
    expect(rssMb(worker.ref.pid)).toBeLessThan(120);
    worker.stdin.end('go\n');
    await waitFor(() => rssMb(worker.ref.pid) > 200, 3_000, 'rss past 200 MB after go');
  });

  it('ends a worker whose stdin closes without go (the agent gave up on it or died)', async () => {
    const worker = spawnTagged(workerPath('cpu-worker.ts'), tag, ['--percent', '100']);
    worker.stdin.end();
    await waitFor(() => !isAlive(worker.ref.pid), 3_000, 'the worker to exit');
  });
});
