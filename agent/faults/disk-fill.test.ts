import { existsSync, mkdtempSync, rmSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DockerAdapter } from '../adapters/docker.ts';
import type { AgentFaultContext } from './agent-fault.ts';
import { BackgroundTasks } from './background-tasks.ts';
import { DiskFillParams, diskFill, fillFileName } from './disk-fill.ts';

describe('disk-fill', () => {
  let dir: string;
  let c: AgentFaultContext;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-fill-'));
    c = {
      faultId: 'fill-1',
      agentId: 'test',
      stateDir: dir,
      background: new BackgroundTasks(),
      adapters: { docker: new DockerAdapter() },
    };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a tagged file of the asked size and removes it on revert', async () => {
    const receipt = await diskFill.apply('host', { path: dir, sizeMb: 12 }, c);
    const file = join(dir, fillFileName('fill-1'));
    expect(receipt).toEqual({ file, bytes: 12 * 1024 * 1024 });
    const st = statSync(file);
    expect(st.size).toBe(12 * 1024 * 1024);
    // Real blocks, not a sparse file: the filesystem really lost the space.
    expect(st.blocks * 512).toBeGreaterThanOrEqual(12 * 1024 * 1024);
    expect(await diskFill.revert(receipt, c)).toBe('reverted');
    expect(existsSync(file)).toBe(false);
    expect(await diskFill.revert(receipt, c)).toBe('vanished');
  });

  it('undo recipe alone is enough to remove the file', async () => {
    const undo = diskFill.undo('host', { path: dir, sizeMb: 1 }, c);
    await diskFill.apply('host', { path: dir, sizeMb: 1 }, c);
    expect(await diskFill.revert(undo, c)).toBe('reverted');
    expect(existsSync(join(dir, fillFileName('fill-1')))).toBe(false);
  });

  it('sweep removes fill files this agent created, even with no ledger', async () => {
    await diskFill.apply('host', { path: dir, sizeMb: 1 }, c);
    expect(await diskFill.sweep!(c)).toBe(1);
    expect(existsSync(join(dir, fillFileName('fill-1')))).toBe(false);
  });

  it('with percent, writes nothing when the filesystem is already past it', async () => {
    const fs = statfsSync(dir);
    const usedPercent = ((fs.blocks - fs.bfree) / fs.blocks) * 100;
    const receipt = await diskFill.apply(
      'host',
      { path: dir, percent: Math.max(1, Math.floor(usedPercent) - 1) },
      c,
    );
    expect(receipt.bytes).toBe(0);
    await diskFill.revert(receipt, c);
  });

  it('takes exactly one of sizeMb or percent', () => {
    expect(DiskFillParams.safeParse({ path: '/tmp' }).success).toBe(false);
    expect(DiskFillParams.safeParse({ path: '/tmp', sizeMb: 1, percent: 5 }).success).toBe(false);
    expect(DiskFillParams.safeParse({ path: '/tmp', sizeMb: 1, extra: 1 }).success).toBe(false);
  });
});
