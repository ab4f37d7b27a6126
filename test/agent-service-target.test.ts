import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningAgent, startAgent } from '../agent/agent.ts';
import { LEDGER_FILE, readLedger } from '../agent/ledger.ts';
import { COMPOSE_SERVICE_LABEL } from '../agent/service-target.ts';
import { docker, ensureDockerTestEnv, removeTestObjects, startTestContainer } from './support/docker-env.ts';

// A `service:NAME` target is the Compose service NAME: its containers, found by Compose's label.
// The agent resolves it before writing the ledger, so replay reverts exactly what was acted on.

const tag = `service-${process.pid}`;
const service = `svc-${process.pid}`;
let dir: string;
let agent: RunningAgent;
let n = 0;

beforeAll(() => ensureDockerTestEnv());
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'faultline-service-'));
  agent = await startAgent({ agentId: `service-test-${process.pid}`, token: '', stateDir: dir });
});
afterEach(async () => {
  await agent.close();
  await removeTestObjects(tag);
  rmSync(dir, { recursive: true, force: true });
});
afterAll(() => removeTestObjects(tag));

const replica = () => startTestContainer({ tag, labels: { [COMPOSE_SERVICE_LABEL]: service } });
const apply = (faultType: string, params: unknown) =>
  agent.runtime.apply({
    faultId: `svc-${++n}`,
    faultType,
    target: `service:${service}`,
    params,
    leaseMs: 60_000,
  });
const intentTarget = () => readLedger(join(dir, LEDGER_FILE)).find((r) => r.op === 'intent')?.target;

describe('service targets', () => {
  it('gives a docker fault every container of the service, and records the label selector in the ledger', async () => {
    const [a, b] = [await replica(), await replica()];
    await apply('docker-pause', {});
    for (const c of [a, b]) expect((await docker.getContainer(c.id).inspect()).State.Paused).toBe(true);
    expect(intentTarget()).toBe(`containers:${COMPOSE_SERVICE_LABEL}=${service}`);

    await agent.runtime.revert(`svc-${n}`, 'test');
    for (const c of [a, b]) expect((await docker.getContainer(c.id).inspect()).State.Paused).toBe(false);
  });

  it('gives a one-container fault the first running container of the service, by name', async () => {
    const first = await replica();
    await replica();
    await apply('network-blackhole', { host: '198.51.100.9', port: 9 });
    expect(intentTarget()).toBe(`container:${first.name}`);
    const pid = String((await docker.getContainer(first.id).inspect()).State.Pid);
    const rules = execFileSync('nsenter', ['-t', pid, '-n', 'iptables', '-S', 'OUTPUT'], {
      encoding: 'utf8',
    });
    expect(rules).toContain('198.51.100.9');

    await agent.runtime.revert(`svc-${n}`, 'test');
    expect(
      execFileSync('nsenter', ['-t', pid, '-n', 'iptables', '-S', 'OUTPUT'], { encoding: 'utf8' }),
    ).not.toContain('198.51.100.9');
  });

  it('fails clearly, with nothing written as applied, when the service has no running container', async () => {
    const c = await replica();
    await docker.getContainer(c.id).stop({ t: 0 });
    await expect(apply('memory-hog', { sizeMb: 8 })).rejects.toMatchObject({
      code: 'FAULT_APPLY_FAILED',
      message: expect.stringContaining(`service ${service} has no running container`),
    });
    expect(readLedger(join(dir, LEDGER_FILE)).filter((r) => r.op === 'intent')).toEqual([]);
  });

  it('is refused for a fault that acts on neither containers nor one container', async () => {
    await replica();
    await expect(apply('disk-fill', { path: dir, sizeMb: 1 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});
