import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { planFile } from '../agent/faults/docker/docker-plan.ts';
import { type AgentChild, spawnAgent, stopChild } from '../agent/test-support/agent-process.ts';
import { AgentHub } from '../controller/dispatch/agent-hub.ts';
import {
  createTestNetwork,
  docker,
  ensureDockerTestEnv,
  removeTestObjects,
  startTestContainer,
  type TestContainer,
} from './support/docker-env.ts';

const tag = `crash-${process.pid}`;
const MIB = 1024 * 1024;

/** What "back as it was" means for a container: state, pause, networks with aliases, limits. */
async function snapshot(id: string) {
  const info: Docker.ContainerInspectInfo = await docker.getContainer(id).inspect();
  const h = info.HostConfig;
  return {
    status: info.State.Status,
    paused: info.State.Paused,
    networks: Object.fromEntries(
      Object.entries(info.NetworkSettings.Networks).map(([name, e]) => [
        name,
        (e.Aliases ?? []).filter((a: string) => !id.startsWith(a)).sort(),
      ]),
    ),
    limits: [h.Memory, h.MemorySwap, h.NanoCpus, h.CpuQuota, h.CpuPeriod],
  };
}

async function waitForStatus(id: string, status: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await docker.getContainer(id).inspect()).State.Status !== status) {
    if (Date.now() > deadline) throw new Error(`container ${id} not ${status} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe('agent crash safety with docker faults active', () => {
  const agentId = `crash-docker-${process.pid}`;
  let dir: string;
  let hub: AgentHub;
  const children: AgentChild[] = [];
  const start = () => {
    const a = spawnAgent({ controller: hub.url, agentId, stateDir: join(dir, 'state') });
    children.push(a);
    return a;
  };
  /** Starts an agent and waits until the hub has it; an agent that dies first fails with its log. */
  const startConnected = async () => {
    const connected = once(hub, 'agent-connected');
    const a = start();
    const died = a.exited.then(([code, signal]) => {
      throw new Error(`agent exited (${code ?? signal}) before connecting; stderr:\n${a.log()}`);
    });
    await Promise.race([connected, died]);
    died.catch(() => {}); // it exits (kill -9) later in the test, by design
    return a;
  };

  beforeAll(() => ensureDockerTestEnv());
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-crash-docker-'));
    hub = await AgentHub.start({ token: 't' });
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await stopChild(c);
    await hub.close();
    await removeTestObjects(tag);
    rmSync(dir, { recursive: true, force: true });
  });
  afterAll(() => removeTestObjects(tag));

  /** A container per fault kind, set up so the fault has something to change. */
  const cases: [string, Record<string, unknown>, () => Promise<TestContainer>][] = [
    ['docker-kill', {}, () => startTestContainer({ tag })],
    ['docker-stop', { timeoutSec: 0 }, () => startTestContainer({ tag })],
    ['docker-pause', {}, () => startTestContainer({ tag })],
    ['docker-restart', { timeoutSec: 0 }, () => startTestContainer({ tag })],
    [
      'docker-resources',
      { memoryMb: 48, cpus: 0.3 },
      () =>
        startTestContainer({ tag, resources: { Memory: 96 * MIB, MemorySwap: 192 * MIB, NanoCpus: 7e8 } }),
    ],
  ];

  it.each(cases)(
    'kill -9 with %s active: the restarted agent puts the container back as it was',
    async (faultType, params, make) => {
      const c = await make();
      const before = await snapshot(c.id);
      const first = await startConnected();
      await hub.apply(agentId, {
        faultId: 'f',
        faultType,
        target: `container:${c.name}`,
        params,
        leaseMs: 60_000,
      });
      if (faultType !== 'docker-restart') expect(await snapshot(c.id)).not.toEqual(before);

      first.child.kill('SIGKILL');
      await first.exited;
      // docker-restart's effect is over already; stop it so the agent has something to undo.
      if (faultType === 'docker-restart') await docker.getContainer(c.id).stop({ t: 0 });

      const second = start();
      expect(await second.waitForLine(/replay:/)).toMatch(/reverted 1, swept 0, failed 0/);
      expect(await snapshot(c.id)).toEqual(before);
    },
  );

  it('kill -9 with docker-network-disconnect active: the container is connected again with its aliases', async () => {
    const net = await createTestNetwork(tag);
    const c = await startTestContainer({ tag, network: net.name });
    await docker.getNetwork(net.id).disconnect({ Container: c.id });
    await docker.getNetwork(net.id).connect({ Container: c.id, EndpointConfig: { Aliases: ['cache'] } });
    const before = await snapshot(c.id);
    const first = await startConnected();
    await hub.apply(agentId, {
      faultId: 'net',
      faultType: 'docker-network-disconnect',
      target: `container:${c.name}`,
      params: { network: net.name },
      leaseMs: 60_000,
    });
    expect((await snapshot(c.id)).networks).toEqual({});
    first.child.kill('SIGKILL');
    await first.exited;

    const second = start();
    expect(await second.waitForLine(/replay:/)).toMatch(/reverted 1, swept 0, failed 0/);
    expect(await snapshot(c.id)).toEqual(before);
    expect(before.networks[net.name]).toEqual(['cache']);
  });

  it('kill -9 in the middle of apply (plan written, no receipt yet) still starts the container again', async () => {
    // busybox sleep as pid 1 ignores SIGTERM, so the engine's stop waits the whole timeoutSec.
    const c = await startTestContainer({ tag });
    const first = await startConnected();
    // The engine reports the stop's SIGTERM as a `kill` event: once it is seen, the agent has
    // written its plan and the engine is carrying out the stop, so the agent dies mid-apply.
    const events = (await docker.getEvents({
      filters: { container: [c.id], event: ['kill'] },
    })) as NodeJS.ReadableStream & { destroy(): void };
    const stopping = once(events, 'data');
    hub
      .apply(agentId, {
        faultId: 'slow',
        faultType: 'docker-stop',
        target: `container:${c.name}`,
        params: { timeoutSec: 2 },
        leaseMs: 60_000,
      })
      .catch(() => {}); // the agent dies before it answers
    const timeout = new AbortController();
    try {
      await Promise.race([
        stopping,
        sleep(10_000, undefined, { signal: timeout.signal }).then(() => {
          throw new Error('the engine reported no kill event for the stop within 10 s');
        }),
      ]);
    } finally {
      timeout.abort();
      events.destroy();
    }
    expect(existsSync(planFile(join(dir, 'state'), 'slow'))).toBe(true);
    first.child.kill('SIGKILL');
    await first.exited;
    await waitForStatus(c.id, 'exited', 10_000); // the engine finishes the stop it was asked for

    const second = start();
    expect(await second.waitForLine(/replay:/)).toMatch(/reverted 1, swept 0, failed 0/);
    expect((await snapshot(c.id)).status).toBe('running');
  });

  it('with the ledger lost, the sweep still finds the plan and unpauses the container', async () => {
    const c = await startTestContainer({ tag });
    const first = await startConnected();
    await hub.apply(agentId, {
      faultId: 'p',
      faultType: 'docker-pause',
      target: `container:${c.name}`,
      params: {},
      leaseMs: 60_000,
    });
    first.child.kill('SIGKILL');
    await first.exited;
    rmSync(join(dir, 'state', 'ledger.jsonl'));

    const second = start();
    expect(await second.waitForLine(/replay:/)).toMatch(/reverted 0, swept 1, failed 0/);
    expect(await snapshot(c.id)).toMatchObject({ status: 'running', paused: false });
  });
});
