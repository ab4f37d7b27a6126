import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DockerAdapter } from '../agent/adapters/docker.ts';
import type { AgentFaultContext } from '../agent/faults/agent-fault.ts';
import { BackgroundTasks } from '../agent/faults/background-tasks.ts';
import { agentFaultRegistry } from '../agent/faults/registry.ts';
import { killTagged } from '../agent/faults/tagged-process.ts';
import { netemSupport } from '../agent/net/netem-support.ts';
import {
  type ConformanceTarget,
  containerTarget,
  familyOf,
  hostTarget,
  netnsTarget,
  type TargetFamily,
} from './support/conformance-targets.ts';
import { faultDocProblems } from './support/fault-doc-sections.ts';

// One conformance suite over every agent fault in the registry: strict schema with a JSON Schema
// to advertise, documented, a visible effect, and apply → revert → revert again returns to the
// start. Each fault acts on a target of its kind: network faults in a namespace this test makes,
// docker faults on a container of the test image, the rest on the host.

const agentId = `conformance-${process.pid}`;
const tag = `conformance-${process.pid}`;
const docs = readFileSync(new URL('../docs/faults.md', import.meta.url), 'utf8');
let binDir: string;
let stateDir: string;
let current: ConformanceTarget | undefined;

async function targetFor(family: TargetFamily, faultId: string): Promise<ConformanceTarget> {
  if (family === 'netns') current = netnsTarget();
  else if (family === 'container') current = await containerTarget(tag);
  // process-kill's example kills by this name; only the host target's victim carries it.
  else current = hostTarget({ agentId, faultId, victimPath: join(binDir, 'faultline-example-victim') });
  return current;
}

/** Polls `check` every 20 ms until it resolves true; throws after `timeoutMs`. */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

beforeAll(() => {
  binDir = mkdtempSync(join(tmpdir(), 'faultline-conf-'));
  stateDir = join(binDir, 'state');
  symlinkSync('/bin/sleep', join(binDir, 'faultline-example-victim'));
  mkdirSync(stateDir);
});
afterEach(async () => {
  await killTagged([], { agentId });
  await current?.cleanup();
  current = undefined;
});
afterAll(() => rmSync(binDir, { recursive: true, force: true }));

describe.each([...agentFaultRegistry.values()])('agent fault $type', (fault) => {
  it('has a strict parameter schema that accepts its example and exports as JSON Schema', () => {
    expect(fault.params.safeParse(fault.example).success).toBe(true);
    expect(fault.params.safeParse({ ...(fault.example as object), notAParam: 1 }).success).toBe(false);
    const schema = z.toJSONSchema(fault.params, { io: 'input', unrepresentable: 'any' });
    expect(schema).toMatchObject({ type: 'object' });
  });

  it('is documented in docs/faults.md with a row per parameter (unit, default) and a Revert line', () => {
    expect(faultDocProblems(docs, `### agent: ${fault.type}`, fault.params)).toEqual([]);
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
    const family = familyOf(fault);
    const where = await targetFor(family, faultId);
    const before = await where.snapshot();
    const params = fault.params.parse(fault.example);

    if (fault.type === 'network-latency' && netemSupport() !== 'yes') {
      // Host latency needs sch_netem; without it the fault must refuse clearly and change nothing.
      await expect(fault.apply(where.target, params, ctx)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      expect(await where.snapshot()).toEqual(before);
      return;
    }

    const receipt = await fault.apply(where.target, params, ctx);
    await waitFor(() => where.changedSince(before), 2_000, `a visible effect of ${fault.type}`);

    await fault.revert(receipt, ctx);
    expect(await where.snapshot()).toEqual(before);
    await expect(fault.revert(receipt, ctx)).resolves.toBe('vanished');
    expect(ctx.background.stop(faultId)).toBe(false);
  });
});
