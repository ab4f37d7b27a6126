import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { testFaultContext } from '../test-support/fault-context.ts';
import { cpuSeconds, isAlive } from '../test-support/proc-stats.ts';
import type { AgentFaultContext } from './agent-fault.ts';
import { cpuStress } from './cpu-stress.ts';
import { findTagged, killTagged } from './tagged-process.ts';
import { WorkerReceipt } from './worker-processes.ts';

const agentId = `test-cpu-${process.pid}`;
let stateDir: string | undefined;
function ctx(faultId: string): AgentFaultContext {
  stateDir = mkdtempSync(join(tmpdir(), 'faultline-cpu-'));
  return testFaultContext({ faultId, agentId, stateDir });
}

afterEach(async () => {
  await killTagged([], { agentId });
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('cpu-stress', () => {
  it('keeps a core busy at the asked percent (within 10 points) and stops on revert', async () => {
    const c = ctx('cpu-1');
    // 30 %, not 50 %: the whole suite runs two test files at once on two cores, and a worker cannot
    // get more than its fair share of a saturated machine (then it undershoots, by design).
    const receipt = await cpuStress.apply('host', cpuStress.params.parse({ percent: 30 }), c);
    const [worker] = WorkerReceipt.parse(receipt).processes;
    await sleep(300); // Node start-up is not part of the duty cycle
    const t0 = performance.now();
    const cpu0 = cpuSeconds(worker!.pid);
    await sleep(2_000);
    const percent = ((cpuSeconds(worker!.pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
    expect(percent).toBeGreaterThan(20);
    expect(percent).toBeLessThan(40);

    expect(await cpuStress.revert(receipt, c)).toBe('reverted');
    expect(isAlive(worker!.pid)).toBe(false);
  });

  it('starts one worker per core, each tagged with the fault id', async () => {
    const c = ctx('cpu-2');
    const receipt = await cpuStress.apply('host', { percent: 10, cores: 2 }, c);
    expect(WorkerReceipt.parse(receipt).processes).toHaveLength(2);
    expect(findTagged({ faultId: 'cpu-2', agentId })).toHaveLength(2);
    await cpuStress.revert(receipt, c);
    expect(findTagged({ faultId: 'cpu-2', agentId })).toHaveLength(0);
  });
});
