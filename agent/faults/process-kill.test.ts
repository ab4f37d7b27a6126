import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isFaultlineError } from '../../protocol/errors.ts';
import { DockerAdapter } from '../adapters/docker.ts';
import { isAlive, waitFor } from '../test-support/proc-stats.ts';
import type { AgentFaultContext } from './agent-fault.ts';
import { BackgroundTasks } from './background-tasks.ts';
import { processKill } from './process-kill.ts';

// Victims run `sleep` through a symlink with a name no other process on the machine has, so
// killing by name touches only them (comm is the name the binary was executed by; <= 15 chars).
const VICTIM = `flv-${process.pid}`.slice(0, 15);
const binDir = mkdtempSync(join(tmpdir(), 'faultline-kill-'));
symlinkSync('/bin/sleep', join(binDir, VICTIM));
const children: ChildProcess[] = [];
function victim(): number {
  const child = spawn(join(binDir, VICTIM), ['30'], { stdio: 'ignore' });
  children.push(child);
  return child.pid!;
}
const ctx = (): AgentFaultContext => ({
  faultId: 'kill-1',
  agentId: 'test',
  stateDir: '/tmp',
  background: new BackgroundTasks(),
  adapters: { docker: new DockerAdapter() },
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(() => rmSync(binDir, { recursive: true, force: true }));

describe('process-kill', () => {
  it('kills a process by pid with the asked signal and records it', async () => {
    const pid = victim();
    const exited = once(children.at(-1)!, 'exit');
    const c = ctx();
    const receipt = await processKill.apply('host', processKill.params.parse({ pid, signal: 'SIGTERM' }), c);
    expect(receipt.killed).toEqual([expect.objectContaining({ pid, name: VICTIM, signal: 'SIGTERM' })]);
    const [, signal] = await exited;
    expect(signal).toBe('SIGTERM');
    expect(await processKill.revert(receipt, c)).toBe('vanished');
  });

  it('kills by name every interval until revert', async () => {
    const c = ctx();
    const first = victim();
    const receipt = await processKill.apply(
      'host',
      processKill.params.parse({ name: VICTIM, intervalMs: 100 }),
      c,
    );
    expect((receipt.killed as { pid: number }[]).map((k) => k.pid)).toContain(first);
    const second = victim();
    await waitFor(() => !isAlive(second), 2_000, 'a process started later to be killed by the interval');
    expect(await processKill.revert(receipt, c)).toBe('reverted');
    const third = victim();
    await sleep(300);
    expect(isAlive(third)).toBe(true);
  });

  it('fails to apply when nothing matches', async () => {
    await expect(
      processKill.apply('host', processKill.params.parse({ name: 'no-such-process-faultline' }), ctx()),
    ).rejects.toSatisfy((e) => isFaultlineError(e, 'FAULT_APPLY_FAILED'));
  });
});
