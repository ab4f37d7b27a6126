import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerAdapter } from '../agent/adapters/docker.ts';
import type { AgentFaultContext, AnyAgentFault } from '../agent/faults/agent-fault.ts';
import { BackgroundTasks } from '../agent/faults/background-tasks.ts';
import { dockerKill } from '../agent/faults/docker/docker-kill.ts';
import { dockerNetworkDisconnect } from '../agent/faults/docker/docker-network-disconnect.ts';
import { dockerPause } from '../agent/faults/docker/docker-pause.ts';
import { planFile, writePlan } from '../agent/faults/docker/docker-plan.ts';
import { dockerResources } from '../agent/faults/docker/docker-resources.ts';
import { dockerRestart } from '../agent/faults/docker/docker-restart.ts';
import { dockerStop } from '../agent/faults/docker/docker-stop.ts';
import { isFaultlineError } from '../protocol/errors.ts';
import {
  createTestNetwork,
  docker,
  ensureDockerTestEnv,
  removeTestObjects,
  startTestContainer,
} from './support/docker-env.ts';

const tag = `faults-${process.pid}`;
let stateDir: string;
let n = 0;

function ctx(): AgentFaultContext {
  return {
    faultId: `docker-${++n}`,
    agentId: 'docker-faults-test',
    stateDir,
    background: new BackgroundTasks(),
    adapters: { docker: new DockerAdapter() },
  };
}

const inspect = (id: string) => docker.getContainer(id).inspect();

async function applyRevert(fault: AnyAgentFault, target: string, params: unknown, c = ctx()) {
  const parsed = fault.params.parse(params);
  const receipt = await fault.apply(target as never, parsed, c);
  return { receipt, revert: () => fault.revert(receipt, c), c };
}

/** The cgroup v1 limit files of a container, as the kernel reads them. */
function cgroupLimits(id: string) {
  const read = (f: string) => readFileSync(f, 'utf8').trim();
  return {
    memory: read(`/sys/fs/cgroup/memory/docker/${id}/memory.limit_in_bytes`),
    memsw: read(`/sys/fs/cgroup/memory/docker/${id}/memory.memsw.limit_in_bytes`),
    quota: read(`/sys/fs/cgroup/cpu/docker/${id}/cpu.cfs_quota_us`),
    period: read(`/sys/fs/cgroup/cpu/docker/${id}/cpu.cfs_period_us`),
  };
}

beforeAll(async () => {
  await ensureDockerTestEnv();
  stateDir = mkdtempSync(join(tmpdir(), 'faultline-docker-faults-'));
});
afterEach(() => removeTestObjects(tag));
afterAll(async () => {
  await removeTestObjects(tag);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('docker faults on a real engine', () => {
  it('docker-kill kills the container and revert starts it again; a second revert is vanished', async () => {
    const c = await startTestContainer({ tag });
    const { revert } = await applyRevert(dockerKill, `container:${c.name}`, {});
    const killed = await inspect(c.id);
    expect(killed.State.Running).toBe(false);
    expect(killed.State.ExitCode).toBe(137);
    await expect(revert()).resolves.toBe('reverted');
    expect((await inspect(c.id)).State.Status).toBe('running');
    await expect(revert()).resolves.toBe('vanished');
  });

  it('docker-stop stops the container and revert starts it again', async () => {
    const c = await startTestContainer({ tag });
    const { revert } = await applyRevert(dockerStop, `container:${c.id}`, { timeoutSec: 0 });
    expect((await inspect(c.id)).State.Status).toBe('exited');
    await expect(revert()).resolves.toBe('reverted');
    expect((await inspect(c.id)).State.Status).toBe('running');
  });

  it('docker-stop reverted from its undo recipe waits out a stop still running in the engine, so the container ends up running', async () => {
    // `sleep` as the container's init ignores SIGTERM: the engine's stop takes its full timeoutSec.
    const c = await startTestContainer({ tag });
    const fault = ctx();
    const plan = planFile(stateDir, fault.faultId);
    writePlan(plan, {
      faultId: fault.faultId,
      type: 'docker-stop',
      containers: [{ id: c.id, name: c.name, before: { running: true, timeoutSec: 2 } }],
      skipped: [],
    });
    // The stop an agent sent just before it was killed: still in the engine when the revert runs.
    const inFlight = docker.getContainer(c.id).stop({ t: 2 });
    await new Promise((r) => setTimeout(r, 300));
    expect((await inspect(c.id)).State.Running).toBe(true);
    const started = performance.now();
    await expect(dockerStop.revert({ plan }, fault)).resolves.toBe('reverted');
    expect(performance.now() - started).toBeGreaterThan(1_000);
    await inFlight;
    expect((await inspect(c.id)).State.Status).toBe('running');
  });

  it('docker-pause freezes the container and revert unpauses it', async () => {
    const c = await startTestContainer({ tag });
    const { revert } = await applyRevert(dockerPause, `container:${c.name}`, {});
    expect((await inspect(c.id)).State).toMatchObject({ Status: 'paused', Paused: true });
    await expect(revert()).resolves.toBe('reverted');
    expect((await inspect(c.id)).State).toMatchObject({ Status: 'running', Paused: false });
  });

  it('docker-restart restarts the container, and revert starts it when it is down', async () => {
    const c = await startTestContainer({ tag });
    const startedAt = (await inspect(c.id)).State.StartedAt;
    const { revert } = await applyRevert(dockerRestart, `container:${c.name}`, { timeoutSec: 0 });
    const after = await inspect(c.id);
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).not.toBe(startedAt);
    await docker.getContainer(c.id).stop({ t: 0 });
    await expect(revert()).resolves.toBe('reverted');
    expect((await inspect(c.id)).State.Status).toBe('running');
  });

  it('docker-network-disconnect disconnects and revert reconnects with the same aliases and static IP', async () => {
    const net = await createTestNetwork(tag, { subnet: true });
    const c = await startTestContainer({ tag, network: 'none' });
    const ip = net.subnet!.replace(/\.0\/24$/, '.77');
    await docker.getContainer(c.id).stop({ t: 0 });
    await docker.getNetwork('none').disconnect({ Container: c.id });
    await docker
      .getNetwork(net.id)
      .connect({ Container: c.id, EndpointConfig: { Aliases: ['db'], IPAMConfig: { IPv4Address: ip } } });
    await docker.getContainer(c.id).start();

    const { revert, receipt } = await applyRevert(dockerNetworkDisconnect, `container:${c.name}`, {
      network: net.name,
    });
    expect(receipt).toMatchObject({ containers: [{ id: c.id }] });
    expect(Object.keys((await inspect(c.id)).NetworkSettings.Networks)).toEqual([]);
    await expect(revert()).resolves.toBe('reverted');
    const endpoint = (await inspect(c.id)).NetworkSettings.Networks[net.name]!;
    expect(endpoint.IPAddress).toBe(ip);
    expect(endpoint.Aliases).toContain('db');
  });

  it('docker-resources sets the limits and revert restores the old HostConfig values exactly', async () => {
    const c = await startTestContainer({
      tag,
      resources: { Memory: 128 * 1024 * 1024, MemorySwap: 256 * 1024 * 1024, NanoCpus: 1e9 },
    });
    const limits = async () => {
      const h = (await inspect(c.id)).HostConfig;
      return { Memory: h.Memory, MemorySwap: h.MemorySwap, NanoCpus: h.NanoCpus, CpuQuota: h.CpuQuota };
    };
    const before = await limits();
    const { revert } = await applyRevert(dockerResources, `container:${c.name}`, { memoryMb: 64, cpus: 0.5 });
    expect(await limits()).toEqual({
      Memory: 64 * 1024 * 1024,
      MemorySwap: 64 * 1024 * 1024,
      NanoCpus: 5e8,
      CpuQuota: 0,
    });
    expect(cgroupLimits(c.id)).toMatchObject({ memory: String(64 * 1024 * 1024), quota: '50000' });
    await expect(revert()).resolves.toBe('reverted');
    expect(await limits()).toEqual(before);
  });

  it('docker-resources on a container without limits leaves its cgroup as it was after revert', async () => {
    const c = await startTestContainer({ tag });
    const before = cgroupLimits(c.id);
    const { revert } = await applyRevert(dockerResources, `container:${c.name}`, {
      memoryMb: 32,
      cpus: 0.25,
    });
    expect(cgroupLimits(c.id)).toEqual({
      ...before,
      memory: String(32 * 1024 * 1024),
      memsw: String(32 * 1024 * 1024),
      quota: '25000',
    });
    await expect(revert()).resolves.toBe('reverted');
    expect(cgroupLimits(c.id)).toEqual(before);
    // Engine 20.10 cannot set a limit back to 0; "no limit" is recorded as the kernel's value.
    expect((await inspect(c.id)).HostConfig).toMatchObject({ CpuQuota: -1, NanoCpus: 0 });
  });

  it('a label selector with count picks that many, the same ones for the same seed, and revert undoes them all', async () => {
    const app = `sel-${process.pid}`;
    const all = await Promise.all([1, 2, 3, 4].map(() => startTestContainer({ tag, labels: { app } })));
    const paused = async () =>
      (await Promise.all(all.map((c) => inspect(c.id)))).filter((i) => i.State.Paused).map((i) => i.Id);
    const first = await applyRevert(dockerPause, `containers:app=${app}`, { select: { count: 2, seed: 7 } });
    const chosen = await paused();
    expect(chosen).toHaveLength(2);
    await expect(first.revert()).resolves.toBe('reverted');
    expect(await paused()).toEqual([]);

    const again = await applyRevert(dockerPause, `containers:app=${app}`, { select: { count: 2, seed: 7 } });
    expect((await paused()).sort()).toEqual([...chosen].sort());
    await again.revert();

    const half = await applyRevert(dockerPause, `containers:app=${app}`, { select: { percent: 50 } });
    expect(await paused()).toHaveLength(2);
    await half.revert();
    expect(await paused()).toEqual([]);
  });

  it('a selector nothing matches fails with FAULT_APPLY_FAILED naming the selector', async () => {
    const err = await dockerKill
      .apply('containers:app=no-such-app-here', dockerKill.params.parse({}), ctx())
      .catch((e: unknown) => e);
    expect(isFaultlineError(err, 'FAULT_APPLY_FAILED')).toBe(true);
    expect((err as Error).message).toContain('app=no-such-app-here');
  });

  it('a container removed while the fault was active reverts as vanished', async () => {
    const c = await startTestContainer({ tag });
    const { revert } = await applyRevert(dockerPause, `container:${c.name}`, {});
    await c.remove();
    await expect(revert()).resolves.toBe('vanished');
    await expect(revert()).resolves.toBe('vanished');
  });

  it('reverts from the undo recipe alone, as replay does after a crash before the receipt was written', async () => {
    const c = await startTestContainer({ tag });
    const context = ctx();
    const params = dockerStop.params.parse({ timeoutSec: 0 });
    const recipe = dockerStop.undo(`container:${c.name}`, params, context);
    await dockerStop.apply(`container:${c.name}`, params, context);
    expect((await inspect(c.id)).State.Running).toBe(false);
    await expect(dockerStop.revert(recipe, context)).resolves.toBe('reverted');
    expect((await inspect(c.id)).State.Running).toBe(true);
  });

  it('refuses a container that is not running, without touching it', async () => {
    const c = await startTestContainer({ tag });
    await docker.getContainer(c.id).stop({ t: 0 });
    const err = await dockerPause.apply(`container:${c.name}`, {}, ctx()).catch((e: unknown) => e);
    expect(isFaultlineError(err, 'FAULT_APPLY_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/not running/);
  });
});
