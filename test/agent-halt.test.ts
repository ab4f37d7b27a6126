import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fillFileName } from '../agent/faults/disk-fill.ts';
import { killTagged } from '../agent/faults/tagged-process.ts';
import { type AgentChild, spawnAgent, stopChild } from '../agent/test-support/agent-process.ts';
import { waitFor } from '../agent/test-support/proc-stats.ts';
import { AgentHub } from '../controller/dispatch/agent-hub.ts';
import { isFaultlineError } from '../protocol/errors.ts';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../cli/main.ts', import.meta.url));

describe('agent halt, resume and shutdown', () => {
  const agentId = `halt-${process.pid}`;
  let dir: string;
  let stateDir: string;
  let hub: AgentHub;
  let agent: AgentChild | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-halt-'));
    stateDir = join(dir, 'state');
    hub = await AgentHub.start({ token: 't' });
    agent = spawnAgent({ controller: hub.url, agentId: agentId, stateDir: stateDir });
    await once(hub, 'agent-connected');
  });
  afterEach(async () => {
    await stopChild(agent);
    await hub.close();
    await killTagged([], { agentId });
    rmSync(dir, { recursive: true, force: true });
  });

  const fill = (faultId: string) =>
    hub.apply(agentId, {
      faultId,
      faultType: 'disk-fill',
      params: { path: dir, sizeMb: 1 },
      leaseMs: 60_000,
    });

  it('`faultline agent halt` reverts everything and refuses faults until `resume`', async () => {
    await fill('a');
    const reverted = once(hub, 'fault-reverted');
    const { stdout } = await run(process.execPath, [CLI, 'agent', 'halt', '--state-dir', stateDir]);
    expect(JSON.parse(stdout)).toMatchObject({ agentId, halted: true, activeFaults: [] });
    expect(existsSync(join(dir, fillFileName('a')))).toBe(false);
    expect((await reverted)[1]).toBe('halt');
    await expect(fill('b')).rejects.toSatisfy((e) => isFaultlineError(e, 'HALTED'));

    const resumed = await run(process.execPath, [CLI, 'agent', 'resume', '--state-dir', stateDir]);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ halted: false });
    await fill('c');
    expect(existsSync(join(dir, fillFileName('c')))).toBe(true);
  });

  it('SIGUSR2 halts the agent', async () => {
    await fill('a');
    agent!.child.kill('SIGUSR2');
    await waitFor(() => !existsSync(join(dir, fillFileName('a'))), 3_000, 'fill file removed');
    await expect(fill('b')).rejects.toSatisfy((e) => isFaultlineError(e, 'HALTED'));
  });

  it('SIGTERM reverts everything and exits 0', async () => {
    await fill('a');
    agent!.child.kill('SIGTERM');
    const [code] = await agent!.exited;
    expect(code).toBe(0);
    expect(existsSync(join(dir, fillFileName('a')))).toBe(false);
  });
});
