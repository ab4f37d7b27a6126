import fs, { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { DockerAdapter } from './adapters/docker.ts';
import { FaultRuntime } from './fault-runtime.ts';
import type { AgentFault, AnyAgentFault, Receipt } from './faults/agent-fault.ts';
import { Ledger, openEntries, readLedger } from './ledger.ts';

/** A fault that records what it saw on disk when it acted, and what it reverted. */
function probeFault(ledgerFile: () => string) {
  const seen = { intentOnDiskAtApply: false, reverted: [] as Receipt[], swept: 0 };
  const fault: AgentFault<{ n: number }> = {
    type: 'probe',
    summary: 'test double',
    targets: ['host'],
    params: z.strictObject({ n: z.number() }),
    example: { n: 1 },
    undo: (_t, p, ctx) => ({ from: 'undo', n: p.n, faultId: ctx.faultId }),
    async apply(_t, p, ctx) {
      seen.intentOnDiskAtApply = readFileSync(ledgerFile(), 'utf8').includes(`"faultId":"${ctx.faultId}"`);
      return { from: 'receipt', n: p.n };
    },
    async revert(receipt) {
      seen.reverted.push(receipt);
      return 'reverted';
    },
    async sweep() {
      seen.swept++;
      return 0;
    },
  };
  return { fault, seen };
}

describe('ledger', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-ledger-'));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes and fsyncs the intent before the fault acts', async () => {
    const ledger = new Ledger(dir);
    const { fault, seen } = probeFault(() => ledger.file);
    const fsync = vi.spyOn(fs, 'fsyncSync');
    const runtime = new FaultRuntime({
      agentId: 'a',
      stateDir: dir,
      ledger,
      registry: new Map([['probe', fault as AnyAgentFault]]),
      adapters: { docker: new DockerAdapter() },
    });
    await runtime.apply({
      faultId: 'f1',
      faultType: 'probe',
      target: 'host',
      params: { n: 1 },
      leaseMs: 60_000,
    });
    expect(seen.intentOnDiskAtApply).toBe(true);
    // intent and applied were each fsync'd
    expect(fsync.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(ledger.read().map((r) => r.op)).toEqual(['intent', 'applied']);
    await runtime.close();
    ledger.close();
  });

  it('replay reverts leftovers with the receipt, or the undo recipe when apply never finished, then sweeps', async () => {
    const ledger = new Ledger(dir);
    const at = Date.now();
    ledger.append({
      op: 'intent',
      faultId: 'done',
      faultType: 'probe',
      target: 'host',
      params: { n: 1 },
      undo: {},
      leaseMs: 1,
      at,
    });
    ledger.append({ op: 'applied', faultId: 'done', receipt: { from: 'receipt', n: 1 }, at });
    ledger.append({ op: 'reverted', faultId: 'done', reason: 'revert', at });
    ledger.append({
      op: 'intent',
      faultId: 'half',
      faultType: 'probe',
      target: 'host',
      params: { n: 2 },
      undo: { from: 'undo', n: 2 },
      leaseMs: 1,
      at,
    });
    ledger.append({
      op: 'intent',
      faultId: 'full',
      faultType: 'probe',
      target: 'host',
      params: { n: 3 },
      undo: { from: 'undo', n: 3 },
      leaseMs: 1,
      at,
    });
    ledger.append({ op: 'applied', faultId: 'full', receipt: { from: 'receipt', n: 3 }, at });
    ledger.close();

    const reopened = new Ledger(dir);
    const { fault, seen } = probeFault(() => reopened.file);
    const runtime = new FaultRuntime({
      agentId: 'a',
      stateDir: dir,
      ledger: reopened,
      registry: new Map([['probe', fault as AnyAgentFault]]),
      adapters: { docker: new DockerAdapter() },
    });
    const result = await runtime.replay();
    expect(result).toEqual({ reverted: 2, swept: 0, failed: [] });
    expect(seen.reverted).toEqual([
      { from: 'undo', n: 2 },
      { from: 'receipt', n: 3 },
    ]);
    expect(seen.swept).toBe(1);
    expect(openEntries(reopened.read())).toEqual([]);
    reopened.close();
  });

  it('compaction keeps only open entries and the file stays appendable', () => {
    const ledger = new Ledger(dir);
    const at = Date.now();
    for (let i = 0; i < 50; i++) {
      ledger.append({
        op: 'intent',
        faultId: `f${i}`,
        faultType: 'probe',
        target: 'host',
        params: {},
        undo: {},
        leaseMs: 1,
        at,
      });
      ledger.append({ op: 'reverted', faultId: `f${i}`, reason: 'revert', at });
    }
    ledger.append({
      op: 'intent',
      faultId: 'open',
      faultType: 'probe',
      target: 'host',
      params: {},
      undo: { x: 1 },
      leaseMs: 1,
      at,
    });
    ledger.append({ op: 'applied', faultId: 'open', receipt: { y: 2 }, at });
    ledger.compact();
    const records = readLedger(ledger.file);
    expect(records.map((r) => [r.op, r.faultId])).toEqual([
      ['intent', 'open'],
      ['applied', 'open'],
    ]);
    ledger.append({ op: 'reverted', faultId: 'open', reason: 'revert', at });
    expect(openEntries(ledger.read())).toEqual([]);
    ledger.close();
  });

  it('skips a torn last line left by a crash mid-write', () => {
    const file = join(dir, 'ledger.jsonl');
    const intent = {
      op: 'intent',
      faultId: 'f',
      faultType: 'probe',
      target: 'host',
      params: {},
      undo: {},
      leaseMs: 1,
      at: 1,
    };
    writeFileSync(file, `${JSON.stringify(intent)}\n{"op":"applied","faultId":"f","rec`);
    const open = openEntries(readLedger(file));
    expect(open).toHaveLength(1);
    expect(open[0]!.receipt).toBeUndefined();
  });
});
