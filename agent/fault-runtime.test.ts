import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isFaultlineError } from '../protocol/errors.ts';
import { DockerAdapter } from './adapters/docker.ts';
import { FaultRuntime } from './fault-runtime.ts';
import type { AgentFault, AnyAgentFault, RevertOutcome } from './faults/agent-fault.ts';
import { Ledger, openEntries } from './ledger.ts';

function countingFault(outcome: () => RevertOutcome | Promise<RevertOutcome>) {
  const calls = { apply: 0, revert: 0 };
  const fault: AgentFault<{ n: number }> = {
    type: 'counting',
    summary: 'test double',
    targets: ['host'],
    params: z.strictObject({ n: z.number() }),
    example: { n: 1 },
    undo: () => ({}),
    async apply(_t, p) {
      calls.apply++;
      return { n: p.n, call: calls.apply };
    },
    async revert() {
      calls.revert++;
      return outcome();
    },
  };
  return { fault, calls };
}

describe('fault runtime', () => {
  let dir: string;
  let ledger: Ledger;
  let runtime: FaultRuntime | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-runtime-'));
    ledger = new Ledger(dir);
  });
  afterEach(async () => {
    await runtime?.close().catch(() => {});
    runtime = undefined;
    ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const make = (fault: AgentFault<{ n: number }>, revertAttempts = 3) => {
    runtime = new FaultRuntime({
      agentId: 'a',
      stateDir: dir,
      ledger,
      registry: new Map([[fault.type, fault as AnyAgentFault]]),
      adapters: { docker: new DockerAdapter() },
      revertAttempts,
    });
    return runtime;
  };
  const req = (faultId: string, leaseMs = 60_000) => ({
    faultId,
    faultType: 'counting',
    target: 'host' as const,
    params: { n: 1 },
    leaseMs,
  });

  it('applies once per fault id: a repeated apply returns the first receipt', async () => {
    const { fault, calls } = countingFault(() => 'reverted');
    const rt = make(fault);
    const [a, b] = await Promise.all([rt.apply(req('f')), rt.apply(req('f'))]);
    expect(a).toEqual(b);
    expect(calls.apply).toBe(1);
  });

  it('refuses a target kind the fault does not act on, before anything is written or done', async () => {
    const { fault, calls } = countingFault(() => 'reverted');
    const rt = make(fault);
    await expect(rt.apply({ ...req('wrong-kind'), target: 'netns:lab' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    expect(calls.apply).toBe(0);
    expect(ledger.open()).toEqual([]);
  });

  it('revert is idempotent and a reverted id is never applied again', async () => {
    const { fault, calls } = countingFault(() => 'reverted');
    const rt = make(fault);
    await rt.apply(req('f'));
    expect(await rt.revert('f', 'revert')).toEqual({ wasActive: true });
    expect(await rt.revert('f', 'revert')).toEqual({ wasActive: false });
    expect(calls.revert).toBe(1);
    await expect(rt.apply(req('f'))).rejects.toSatisfy((e) => isFaultlineError(e, 'CONFLICT'));
  });

  it('reverts on its own when the lease runs out and says so', async () => {
    const { fault, calls } = countingFault(() => 'reverted');
    const rt = make(fault);
    await rt.apply(req('f', 100));
    const [id] = await once(rt, 'expired');
    expect(id).toBe('f');
    expect(calls.revert).toBe(1);
    expect(rt.activeIds()).toEqual([]);
    expect(() => rt.renew('f', 100)).toThrow(/not active/);
  });

  it('records a revert of a vanished target once and does not retry it', async () => {
    const { fault, calls } = countingFault(() => 'vanished');
    const rt = make(fault);
    await rt.apply(req('f'));
    await rt.revert('f', 'revert');
    await rt.revert('f', 'revert');
    const reverted = ledger.read().filter((r) => r.op === 'reverted');
    expect(reverted).toEqual([expect.objectContaining({ faultId: 'f', vanished: true })]);
    expect(calls.revert).toBe(1);
  });

  it('keeps the ledger entry open when revert fails, and tries again when the lease runs out', async () => {
    let failures = 1;
    const { fault, calls } = countingFault(() => {
      if (failures-- > 0) throw new Error('EPERM');
      return 'reverted';
    });
    const rt = make(fault, 1);
    await rt.apply(req('f', 150));
    await expect(rt.revert('f', 'revert')).rejects.toSatisfy((e) =>
      isFaultlineError(e, 'FAULT_REVERT_FAILED'),
    );
    expect(openEntries(ledger.read()).map((e) => e.intent.faultId)).toEqual(['f']);
    await once(rt, 'expired');
    expect(calls.revert).toBe(2);
    expect(openEntries(ledger.read())).toEqual([]);
  });

  it('halt reverts everything and refuses new faults until resume', async () => {
    const { fault, calls } = countingFault(() => 'reverted');
    const rt = make(fault);
    await rt.apply(req('a'));
    await rt.apply(req('b'));
    await rt.halt();
    expect(calls.revert).toBe(2);
    await expect(rt.apply(req('c'))).rejects.toSatisfy((e) => isFaultlineError(e, 'HALTED'));
    rt.resume();
    await rt.apply(req('c'));
    expect(rt.activeIds()).toEqual(['c']);
  });

  it('rejects unknown types and invalid params before writing anything', async () => {
    const { fault } = countingFault(() => 'reverted');
    const rt = make(fault);
    await expect(rt.apply({ ...req('x'), faultType: 'nope' })).rejects.toSatisfy((e) =>
      isFaultlineError(e, 'UNKNOWN_FAULT_TYPE'),
    );
    await expect(rt.apply({ ...req('y'), params: { n: 'one' } })).rejects.toSatisfy((e) =>
      isFaultlineError(e, 'INVALID_INPUT'),
    );
    expect(ledger.read()).toEqual([]);
  });
});
