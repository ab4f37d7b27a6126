import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweepRules } from '../agent/net/iptables-rule.ts';
import { qdiscHandle, sweepRootQdiscs } from '../agent/net/root-qdisc.ts';
import { type AgentChild, spawnAgent, stopChild } from '../agent/test-support/agent-process.ts';
import { AgentHub } from '../controller/dispatch/agent-hub.ts';
import { createNetnsLab, type NetnsLab } from './support/netns-lab.ts';

// A real agent applies network faults inside a namespace this test creates, is killed with
// SIGKILL, and is started again: its replay (or, with the ledger lost, its sweep) must leave no
// rule or qdisc of ours. network-latency is not here: this kernel has no sch_netem, so it never
// applies (test/network-faults.test.ts tests the refusal).

describe('agent crash safety for network faults', () => {
  const agentId = `netcrash-${process.pid}`;
  let dir: string;
  let hub: AgentHub;
  let lab: NetnsLab;
  const children: AgentChild[] = [];
  const start = () => {
    const a = spawnAgent({ controller: hub.url, agentId, stateDir: join(dir, 'state') });
    children.push(a);
    return a;
  };
  const nsOf = (name: string) => ({ label: name, prefix: ['ip', 'netns', 'exec', name] });
  const ourRules = () =>
    ['iptables', 'ip6tables']
      .flatMap((bin) => lab.exec(lab.nsA, [bin, '-S']).split('\n'))
      .filter((l) => l.includes(`faultline:${agentId}:`));
  const rootQdisc = () => lab.exec(lab.nsA, ['tc', 'qdisc', 'show', 'dev', lab.devA, 'root']).trim();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-netcrash-'));
    hub = await AgentHub.start({ token: 't' });
    lab = createNetnsLab();
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await stopChild(c);
    await hub.close();
    await sweepRules(nsOf(lab.nsA), agentId);
    await sweepRootQdiscs(nsOf(lab.nsA), qdiscHandle(agentId));
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Applies one fault of each network kind that this kernel can run, in nsA, with long leases. */
  async function applyAll(): Promise<void> {
    const target = `netns:${lab.nsA}`;
    const leaseMs = 60_000; // long: the lease must not be what cleans up here
    await hub.apply(agentId, {
      faultId: 'blackhole',
      faultType: 'network-blackhole',
      target,
      params: { host: lab.addrB, port: 7001 },
      leaseMs,
    });
    await hub.apply(agentId, {
      faultId: 'loss',
      faultType: 'network-loss',
      target,
      params: { percent: 30, port: 7002, protocol: 'udp' },
      leaseMs,
    });
    await hub.apply(agentId, {
      faultId: 'bandwidth',
      faultType: 'network-bandwidth',
      target,
      params: { rateKbitPerSec: 1000 },
      leaseMs,
    });
    // blackhole: one IPv4 rule; loss without host: one rule per address family.
    expect(ourRules()).toHaveLength(3);
    expect(rootQdisc()).toMatch(/^qdisc tbf /);
  }

  it('kill -9 with blackhole, loss and bandwidth active leaves no rule or qdisc once it restarts', async () => {
    const first = start();
    await once(hub, 'agent-connected');
    await applyAll();

    first.child.kill('SIGKILL');
    await first.exited;
    // The crash itself reverted nothing.
    expect(ourRules()).toHaveLength(3);
    expect(rootQdisc()).toMatch(/^qdisc tbf /);

    const second = start();
    expect(await second.waitForLine(/replay:/, 20_000)).toMatch(/reverted 3, swept 0, failed 0/);
    expect(ourRules()).toEqual([]);
    expect(rootQdisc()).toMatch(/^qdisc noqueue 0: root/);
  });

  it('sweeps tagged rules and qdiscs the ledger does not know of', async () => {
    const first = start();
    await once(hub, 'agent-connected');
    await applyAll();
    first.child.kill('SIGKILL');
    await first.exited;
    // Lose the ledger: only the iptables comments and the qdisc handle are left to find them by.
    rmSync(join(dir, 'state', 'ledger.jsonl'));

    const second = start();
    expect(await second.waitForLine(/replay:/, 20_000)).toMatch(/reverted 0, swept 4, failed 0/);
    expect(ourRules()).toEqual([]);
    expect(rootQdisc()).toMatch(/^qdisc noqueue 0: root/);
  });
});
