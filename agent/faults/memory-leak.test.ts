import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { testFaultContext } from '../test-support/fault-context.ts';
import { isAlive, rssMb, waitFor } from '../test-support/proc-stats.ts';
import type { AgentFaultContext } from './agent-fault.ts';
import { memoryHog } from './memory-hog.ts';
import { memoryLeak } from './memory-leak.ts';
import { killTagged } from './tagged-process.ts';
import { WorkerReceipt } from './worker-processes.ts';

const agentId = `test-memory-${process.pid}`;
const dirs: string[] = [];
function ctx(faultId: string): AgentFaultContext {
  const stateDir = mkdtempSync(join(tmpdir(), 'faultline-mem-'));
  dirs.push(stateDir);
  return testFaultContext({ faultId, agentId, stateDir });
}

afterEach(async () => {
  await killTagged([], { agentId });
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('memory-leak', () => {
  it("grows the worker's RSS at the asked rate (within 10 %) and frees it all on revert", async () => {
    const c = ctx('leak-1');
    const rate = 40;
    const receipt = await memoryLeak.apply('host', { rateMbPerSec: rate, maxMb: 400 }, c);
    const [worker] = WorkerReceipt.parse(receipt).processes;
    // Let Node start up before measuring, so its own start-up memory is not counted as leak.
    await sleep(500);
    const t0 = performance.now();
    const rss0 = rssMb(worker!.pid);
    await sleep(2_000);
    const rss1 = rssMb(worker!.pid);
    const measured = (rss1 - rss0) / ((performance.now() - t0) / 1000);
    expect(measured).toBeGreaterThan(rate * 0.9);
    expect(measured).toBeLessThan(rate * 1.1);

    expect(await memoryLeak.revert(receipt, c)).toBe('reverted');
    expect(isAlive(worker!.pid)).toBe(false);
    expect(await memoryLeak.revert(receipt, c)).toBe('vanished');
  });

  it('stops growing at maxMb', async () => {
    const c = ctx('leak-2');
    const receipt = await memoryLeak.apply('host', { rateMbPerSec: 200, maxMb: 60 }, c);
    const pid = WorkerReceipt.parse(receipt).processes[0]!.pid;
    // 60 MB at 200 MB/s takes 0.3 s; after 1 s growth must have stopped.
    await sleep(1_000);
    const first = rssMb(pid);
    expect(first).toBeGreaterThan(60);
    await sleep(500);
    expect(rssMb(pid) - first).toBeLessThan(5);
    await memoryLeak.revert(receipt, c);
  });
});

describe('memory-hog', () => {
  it('takes the asked size at once and frees it on revert', async () => {
    const c = ctx('hog-1');
    const receipt = await memoryHog.apply('host', { sizeMb: 80 }, c);
    const pid = WorkerReceipt.parse(receipt).processes[0]!.pid;
    await waitFor(() => rssMb(pid) > 80, 3_000, 'rss past 80 MB');
    expect(await memoryHog.revert(receipt, c)).toBe('reverted');
    expect(isAlive(pid)).toBe(false);
  });
});
