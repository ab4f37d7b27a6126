import { describe, expect, it } from 'vitest';
import type { Verdict } from '../protocol/verdict.ts';
import { runCli } from './support/cli-child.ts';

describe('faultline demo', () => {
  it('ramps latency until the guard aborts the run, reverts the fault, and reports the abort latency', async () => {
    const r = await runCli(['demo', '--json'], 60_000);
    expect(r.stderr).toContain('every fault was reverted');
    expect(r.code).toBe(0);
    const verdict = JSON.parse(r.stdout) as Verdict;
    expect(verdict.ending).toBe('aborted');
    expect(verdict.exitCode).toBe(3);
    expect(verdict.abort!.breachSeenAt).toBeLessThanOrEqual(verdict.abort!.abortDecidedAt);
    expect(verdict.abort!.abortDecidedAt).toBeLessThanOrEqual(verdict.abort!.allFaultsRevertedAt);
    expect(verdict.faults.length).toBeGreaterThan(0);
    for (const f of verdict.faults) expect(f.revertedAt).not.toBeNull();
    expect(verdict.hypothesisAfter?.ok).toBe(true);
  });
});
