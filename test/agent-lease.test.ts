import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fillFileName } from '../agent/faults/disk-fill.ts';
import { findTagged, killTagged } from '../agent/faults/tagged-process.ts';
import { type AgentChild, spawnAgent, stopChild } from '../agent/test-support/agent-process.ts';
import { isAlive, waitFor } from '../agent/test-support/proc-stats.ts';
import { AgentHub } from '../controller/dispatch/agent-hub.ts';

describe('agent leases', () => {
  const agentId = `lease-${process.pid}`;
  const victimName = `flvl-${process.pid}`.slice(0, 15);
  let dir: string;
  let hub: AgentHub | undefined;
  let agent: AgentChild | undefined;
  const victims: ChildProcess[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-lease-'));
    symlinkSync('/bin/sleep', join(dir, victimName));
  });
  afterEach(async () => {
    await stopChild(agent);
    await hub?.close();
    await killTagged([], { agentId });
    for (const v of victims.splice(0)) if (v.exitCode === null && v.signalCode === null) v.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reverts every fault within the lease when the controller disappears', async () => {
    hub = await AgentHub.start({ token: 't' });
    agent = spawnAgent({ controller: hub.url, agentId: agentId, stateDir: join(dir, 'state') });
    await once(hub, 'agent-connected');
    const leaseMs = 1_500;
    const victim = () => {
      const v = spawn(join(dir, victimName), ['30'], { stdio: 'ignore' });
      victims.push(v);
      return v;
    };
    victim();
    await hub.apply(agentId, {
      faultId: 'leak',
      faultType: 'memory-leak',
      params: { rateMbPerSec: 10, maxMb: 20 },
      leaseMs,
    });
    await hub.apply(agentId, { faultId: 'cpu', faultType: 'cpu-stress', params: { percent: 10 }, leaseMs });
    await hub.apply(agentId, {
      faultId: 'fill',
      faultType: 'disk-fill',
      params: { path: dir, sizeMb: 2 },
      leaseMs,
    });
    const killParams = { name: victimName, intervalMs: 100 };
    await hub.apply(agentId, { faultId: 'kill', faultType: 'process-kill', params: killParams, leaseMs });
    // Renewals keep everything alive past one lease.
    await sleep(leaseMs + 500);
    expect(findTagged({ agentId })).toHaveLength(2);
    expect(existsSync(join(dir, fillFileName('fill')))).toBe(true);

    const t0 = Date.now();
    await hub.close();
    hub = undefined;
    await waitFor(
      () => findTagged({ agentId }).length === 0 && !existsSync(join(dir, fillFileName('fill'))),
      leaseMs + 1_000,
      'every fault reverted',
    );
    const elapsed = Date.now() - t0;
    // The last renewal was at most lease/3 before the hub went: expiry lands in [2/3 lease, lease].
    expect(elapsed).toBeGreaterThanOrEqual(leaseMs * 0.6);
    expect(elapsed).toBeLessThanOrEqual(leaseMs + 300);
    // The kill interval stopped too: a new victim survives.
    await waitFor(() => agent!.log().includes('lease expired: kill'), 1_000, 'kill fault expired');
    const late = victim();
    await sleep(300);
    expect(isAlive(late.pid!)).toBe(true);
    // The agent itself survives the controller and keeps trying to reconnect.
    expect(agent.child.exitCode).toBeNull();
  });
});
