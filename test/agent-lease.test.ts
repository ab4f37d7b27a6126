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
import { DEFAULT_LEASE_MS } from '../protocol/agent-wire.ts';
import { docker, removeTestObjects, startTestContainer } from './support/docker-env.ts';
import { createNetnsLab } from './support/netns-lab.ts';

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

  it('reverts container and network faults too within the default 5 s lease when the controller disappears', async () => {
    const lab = createNetnsLab();
    const tag = `lease-${process.pid}`;
    try {
      const container = await startTestContainer({ tag });
      hub = await AgentHub.start({ token: 't' });
      agent = spawnAgent({ controller: hub.url, agentId, stateDir: join(dir, 'state') });
      await once(hub, 'agent-connected');
      const rules = () => lab.exec(lab.nsA, ['iptables', '-S', 'OUTPUT']);
      const paused = async () => (await docker.getContainer(container.id).inspect()).State.Paused;
      // No leaseMs: the hub's default, which is the protocol's DEFAULT_LEASE_MS.
      await hub.apply(agentId, {
        faultId: 'hole',
        faultType: 'network-blackhole',
        target: `netns:${lab.nsA}`,
        params: { host: lab.addrB, port: 9 },
      });
      await hub.apply(agentId, {
        faultId: 'pause',
        faultType: 'docker-pause',
        target: `container:${container.name}`,
        params: {},
      });
      await hub.apply(agentId, { faultId: 'hog', faultType: 'memory-hog', params: { sizeMb: 8 } });
      expect(rules()).toContain(lab.addrB);
      expect(await paused()).toBe(true);
      expect(findTagged({ agentId })).toHaveLength(1);

      const t0 = Date.now();
      await hub.close();
      hub = undefined;
      const deadline = t0 + DEFAULT_LEASE_MS + 1_000;
      while (rules().includes(lab.addrB) || (await paused()) || findTagged({ agentId }).length > 0) {
        if (Date.now() > deadline)
          throw new Error(`faults still in place ${Date.now() - t0} ms after the hub went`);
        await sleep(50);
      }
      // Renewed every lease/3 until the hub went, so expiry lands in [2/3 lease, lease] (+ revert time).
      expect(Date.now() - t0).toBeLessThanOrEqual(DEFAULT_LEASE_MS + 500);
    } finally {
      await removeTestObjects(tag);
      await lab.cleanup();
    }
  });
});
