import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killTagged } from '../agent/faults/tagged-process.ts';
import { type AgentChild, spawnCli, stopChild } from '../agent/test-support/agent-process.ts';
import { AgentHub } from '../controller/dispatch/agent-hub.ts';
import { docker, removeTestObjects, startTestContainer, type TestContainer } from './support/docker-env.ts';

// `faultline agent --mode sidecar --target T` is scoped to one service: a fault sent for `host`
// acts on T, and a fault sent for any other target is refused.

describe('sidecar agent', () => {
  const agentId = `sidecar-${process.pid}`;
  const tag = `sidecar-${process.pid}`;
  let dir: string;
  let hub: AgentHub;
  let agent: AgentChild | undefined;
  let mine: TestContainer;
  let other: TestContainer;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-sidecar-'));
    [mine, other] = [await startTestContainer({ tag }), await startTestContainer({ tag })];
    hub = await AgentHub.start({ token: 't' });
    const connected = once(hub, 'agent-connected');
    agent = spawnCli([
      'agent',
      '--controller',
      hub.url,
      '--token',
      't',
      '--id',
      agentId,
      '--state-dir',
      join(dir, 'state'),
      '--mode',
      'sidecar',
      '--target',
      `container:${mine.name}`,
    ]);
    await connected;
  });
  afterEach(async () => {
    await stopChild(agent);
    await hub.close();
    await killTagged([], { agentId });
    await removeTestObjects(tag);
    rmSync(dir, { recursive: true, force: true });
  });

  const paused = async (c: TestContainer) => (await docker.getContainer(c.id).inspect()).State.Paused;

  it('acts on its own container when a fault is sent for `host`, and reverts it', async () => {
    expect(hub.agents().find((a) => a.agentId === agentId)).toMatchObject({ mode: 'sidecar' });
    await hub.apply(agentId, { faultId: 'p', faultType: 'docker-pause', params: {}, leaseMs: 60_000 });
    expect(await paused(mine)).toBe(true);
    expect(await paused(other)).toBe(false);
    await hub.revert(agentId, 'p');
    expect(await paused(mine)).toBe(false);
  });

  it('refuses a fault sent for a target outside its scope, and touches nothing', async () => {
    await expect(
      hub.apply(agentId, {
        faultId: 'q',
        faultType: 'docker-pause',
        target: `container:${other.name}`,
        params: {},
        leaseMs: 60_000,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('sidecar') });
    expect(await paused(other)).toBe(false);
    expect(await paused(mine)).toBe(false);
  });
});
