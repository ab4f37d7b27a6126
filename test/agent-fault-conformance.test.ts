import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DockerAdapter } from '../agent/adapters/docker.ts';
import type { AgentFaultContext } from '../agent/faults/agent-fault.ts';
import { BackgroundTasks } from '../agent/faults/background-tasks.ts';
import { agentFaultRegistry } from '../agent/faults/registry.ts';
import { findTagged, killTagged } from '../agent/faults/tagged-process.ts';
import { isAlive, waitFor } from '../agent/test-support/proc-stats.ts';

// One conformance suite over every agent fault in the registry: strict schema with a JSON Schema
// to advertise, documented, a visible effect, and apply → revert → revert again returns to the start.

const agentId = `conformance-${process.pid}`;
const docs = readFileSync(new URL('../docs/faults.md', import.meta.url), 'utf8');
let binDir: string;
let stateDir: string;
const victims: ChildProcess[] = [];

/** What of ours exists right now: tagged worker processes and fill files in /tmp. */
function ours(faultId: string) {
  return {
    processes: findTagged({ agentId }).length,
    files: readdirSync(tmpdir()).filter((f) => f === `.faultline-fill-${faultId}`),
  };
}

beforeAll(() => {
  binDir = mkdtempSync(join(tmpdir(), 'faultline-conf-'));
  stateDir = join(binDir, 'state');
  // process-kill's example kills by this name; only our victim carries it.
  symlinkSync('/bin/sleep', join(binDir, 'faultline-example-victim'));
  mkdirSync(stateDir);
});
afterEach(async () => {
  await killTagged([], { agentId });
  for (const v of victims.splice(0)) if (v.exitCode === null && v.signalCode === null) v.kill('SIGKILL');
});
afterAll(() => rmSync(binDir, { recursive: true, force: true }));

describe.each([...agentFaultRegistry.values()])('agent fault $type', (fault) => {
  it('has a strict parameter schema that accepts its example and exports as JSON Schema', () => {
    expect(fault.params.safeParse(fault.example).success).toBe(true);
    expect(fault.params.safeParse({ ...(fault.example as object), notAParam: 1 }).success).toBe(false);
    const schema = z.toJSONSchema(fault.params, { io: 'input', unrepresentable: 'any' });
    expect(schema).toMatchObject({ type: 'object' });
  });

  it('is documented in docs/faults.md', () => {
    expect(docs).toMatch(new RegExp(`^### agent: ${fault.type}$`, 'm'));
  });

  it('applies with a visible effect, and revert (twice) returns to the start', async () => {
    const faultId = `conf-${fault.type}`;
    const ctx: AgentFaultContext = {
      faultId,
      agentId,
      stateDir,
      background: new BackgroundTasks(),
      adapters: { docker: new DockerAdapter() },
    };
    const victim = spawn(join(binDir, 'faultline-example-victim'), ['30'], { stdio: 'ignore' });
    victims.push(victim);
    const before = ours(faultId);

    const receipt = await fault.apply('host', fault.params.parse(fault.example), ctx);
    const during = ours(faultId);
    const changed =
      during.processes > before.processes ||
      during.files.length > before.files.length ||
      !isAlive(victim.pid!);
    if (!changed) await waitFor(() => !isAlive(victim.pid!), 1_000, `a visible effect of ${fault.type}`);

    await fault.revert(receipt, ctx);
    expect(ours(faultId)).toEqual(before);
    await expect(fault.revert(receipt, ctx)).resolves.toBe('vanished');
    expect(ctx.background.stop(faultId)).toBe(false);
  });
});
