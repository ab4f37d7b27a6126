import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerAdapter } from '../agent/adapters/docker.ts';
import type { AgentFaultContext } from '../agent/faults/agent-fault.ts';
import { BackgroundTasks } from '../agent/faults/background-tasks.ts';
import { networkBandwidth } from '../agent/faults/network/network-bandwidth.ts';
import { networkBlackhole } from '../agent/faults/network/network-blackhole.ts';
import { sweepRules } from '../agent/net/iptables-rule.ts';
import { runIn } from '../agent/net/netns.ts';
import { qdiscHandle, sweepRootQdiscs } from '../agent/net/root-qdisc.ts';
import { docker, removeTestObjects, startTestContainer, type TestContainer } from './support/docker-env.ts';
import { NetProbes } from './support/net-probes.ts';

// Network faults on a `container:` target: a real container (no network, so only its own `lo`),
// entered through its init pid as the agent does. Traffic runs inside the container's namespace.

const agentId = `netcontainer-${process.pid}`;
const tag = `netfaults-${process.pid}`;
const probes = new NetProbes();
let container: TestContainer;
let enter: string[];
let n = 0;

const ctx = (): AgentFaultContext => ({
  faultId: `nc-${n++}`,
  agentId,
  stateDir: '/nonexistent', // network faults keep nothing in the state dir
  background: new BackgroundTasks(),
  adapters: { docker: new DockerAdapter() },
});
const inContainer = () => ({ label: 'test container', prefix: enter });

beforeAll(async () => {
  container = await startTestContainer({ tag });
  const pid = (await docker.getContainer(container.id).inspect()).State.Pid;
  enter = ['nsenter', `--net=/proc/${pid}/ns/net`, '--'];
  await probes.startServer(enter, ['tcp-server', '7001']);
});
afterAll(async () => {
  await probes.killAll();
  if (enter) {
    await sweepRules(inContainer(), agentId);
    await sweepRootQdiscs(inContainer(), qdiscHandle(agentId));
  }
  await removeTestObjects(tag);
});

describe('network faults on a container target', () => {
  it('blackhole makes a connect inside the container time out, and revert lets it through', async () => {
    const connect = () =>
      probes.probe<{ ok: boolean; error?: string }>(enter, ['connect', '127.0.0.1', '7001', '1000']);
    expect((await connect()).ok).toBe(true);
    const c = ctx();
    const params = networkBlackhole.params.parse({ host: '127.0.0.1', port: 7001 });
    const receipt = await networkBlackhole.apply(`container:${container.name}`, params, c);
    const rules = (await runIn(inContainer(), ['iptables', '-S', 'OUTPUT'])).stdout;
    expect(rules).toContain(`faultline:${agentId}:${c.faultId}`);
    expect(await connect()).toMatchObject({ ok: false, error: 'ETIMEDOUT' });
    await expect(networkBlackhole.revert(receipt, c)).resolves.toBe('reverted');
    expect((await connect()).ok).toBe(true);
  });

  it('bandwidth shapes the container lo (it has no default route) to the asked rate (at most 15 % over, at most 20 % under)', async () => {
    const c = ctx();
    const params = networkBandwidth.params.parse({ rateKbitPerSec: 2000 });
    const receipt = await networkBandwidth.apply(`container:${container.id}`, params, c);
    expect(receipt).toMatchObject({ device: 'lo' });
    const transfer = async () => {
      const r = await probes.probe<{ ok: boolean; bytes: number; firstBytes: number; spanMs: number }>(
        enter,
        ['send', '127.0.0.1', '7001', '600000', '20000'],
        25_000,
      );
      expect(r.ok).toBe(true);
      return ((r.bytes - r.firstBytes) * 8) / r.spanMs;
    };
    // The shaper bounds the rate from above, so every transfer must stay under 1.15x. Below, a
    // sender starved of CPU on a busy 2-core machine (cpu-stress tests run beside this file) measured
    // 0.85x: the best of two transfers must reach 0.8x.
    const first = await transfer();
    expect(first).toBeLessThan(2000 * 1.15);
    const best = first > 2000 * 0.8 ? first : Math.max(first, await transfer());
    expect(best).toBeLessThan(2000 * 1.15);
    expect(best).toBeGreaterThan(2000 * 0.8);
    await expect(networkBandwidth.revert(receipt, c)).resolves.toBe('reverted');
  });

  it('fails to apply on a container that does not exist, naming it', async () => {
    const params = networkBlackhole.params.parse({ port: 9 });
    await expect(
      networkBlackhole.apply('container:faultline-no-such-container', params, ctx()),
    ).rejects.toMatchObject({
      code: 'FAULT_APPLY_FAILED',
      message: expect.stringContaining('faultline-no-such-container'),
    });
  });

  it('reverts as vanished once the container is gone (its namespace took the rules with it)', async () => {
    const victim = await startTestContainer({ tag });
    const c = ctx();
    const params = networkBlackhole.params.parse({ port: 9 });
    const receipt = await networkBlackhole.apply(`container:${victim.name}`, params, c);
    await victim.remove();
    await expect(networkBlackhole.revert(receipt, c)).resolves.toBe('vanished');
  });
});
