import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fillFileName } from '../agent/faults/disk-fill.ts';
import { findTagged, killTagged } from '../agent/faults/tagged-process.ts';
import { type AgentChild, spawnAgent, stopChild } from '../agent/test-support/agent-process.ts';
import { isAlive } from '../agent/test-support/proc-stats.ts';
import { AgentHub } from '../controller/dispatch/agent-hub.ts';

describe('agent crash safety', () => {
  const agentId = `crash-${process.pid}`;
  let dir: string;
  let hub: AgentHub;
  const children: AgentChild[] = [];
  const start = () => {
    const a = spawnAgent({ controller: hub.url, agentId: agentId, stateDir: join(dir, 'state') });
    children.push(a);
    return a;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-crash-'));
    hub = await AgentHub.start({ token: 't' });
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await stopChild(c);
    await hub.close();
    await killTagged([], { agentId });
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 of the agent with memory, cpu and disk faults active leaves nothing once it restarts', async () => {
    const first = start();
    await once(hub, 'agent-connected');
    const leaseMs = 60_000; // long: the lease must not be what cleans up here
    await hub.apply(agentId, {
      faultId: 'leak',
      faultType: 'memory-leak',
      params: { rateMbPerSec: 20, maxMb: 40 },
      leaseMs,
    });
    await hub.apply(agentId, {
      faultId: 'cpu',
      faultType: 'cpu-stress',
      params: { percent: 20, cores: 1 },
      leaseMs,
    });
    await hub.apply(agentId, {
      faultId: 'fill',
      faultType: 'disk-fill',
      params: { path: dir, sizeMb: 4 },
      leaseMs,
    });
    const workers = findTagged({ agentId });
    expect(workers.map((w) => w.faultId).sort()).toEqual(['cpu', 'leak']);
    const fillFile = join(dir, fillFileName('fill'));
    expect(existsSync(fillFile)).toBe(true);

    first.child.kill('SIGKILL');
    await first.exited;
    // The crash itself reverted nothing: the workers and the file outlive the agent.
    expect(workers.every((w) => isAlive(w.pid))).toBe(true);
    expect(existsSync(fillFile)).toBe(true);

    const second = start();
    const line = await second.waitForLine(/replay:/);
    expect(line).toMatch(/reverted 3, swept 0, failed 0/);
    expect(findTagged({ agentId })).toEqual([]);
    expect(workers.some((w) => isAlive(w.pid))).toBe(false);
    expect(existsSync(fillFile)).toBe(false);
  });

  it('sweeps tagged workers the ledger does not know of', async () => {
    const first = start();
    await once(hub, 'agent-connected');
    await hub.apply(agentId, {
      faultId: 'hog',
      faultType: 'memory-hog',
      params: { sizeMb: 8 },
      leaseMs: 60_000,
    });
    first.child.kill('SIGKILL');
    await first.exited;
    // Lose the ledger: only the argv markers are left to find the worker by.
    rmSync(join(dir, 'state', 'ledger.jsonl'));
    const second = start();
    expect(await second.waitForLine(/replay:/)).toMatch(/reverted 0, swept 1/);
    expect(findTagged({ agentId })).toEqual([]);
  });
});
