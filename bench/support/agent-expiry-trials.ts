import { once } from 'node:events';
import { join } from 'node:path';
import { startAgent } from '../../agent/agent.ts';
import type { AnyAgentFault, Receipt } from '../../agent/faults/agent-fault.ts';
import type { AgentTarget } from '../../protocol/agent-wire.ts';

/** One fault kind's bench target: where it acts and how to tell its effect is gone. */
export interface ExpiryTarget {
  target: AgentTarget;
  /** Parameters used (default: the fault's `example`). */
  params?: unknown;
  /** One line for the results table. */
  describe: string;
  /** True when nothing of the fault remains (workers dead, file gone, container back, rule gone). */
  effectGone(receipt: Receipt, faultId: string): Promise<boolean>;
  tearDown(): Promise<void>;
}

export interface ExpiryTrial {
  /** Lease deadline → revert done and recorded, ms. */
  expiryToRevertedMs: number;
  effectGone: boolean;
}

export interface ExpiryTrialOptions {
  fault: AnyAgentFault;
  target: ExpiryTarget;
  trials: number;
  /** Lease each fault is applied with, ms. */
  leaseMs: number;
  /** Scratch dir; the in-process agent keeps its ledger under it. */
  dir: string;
}

/**
 * Applies `fault` `trials` times, one after another, through a real in-process agent (its
 * FaultRuntime, ledger and lease table), never renewing, and times each lease expiry → revert.
 */
export async function expiryTrials(opts: ExpiryTrialOptions): Promise<ExpiryTrial[]> {
  const { fault, target } = opts;
  const agent = await startAgent({
    agentId: `bench-expiry-${process.pid}`,
    token: '',
    stateDir: join(opts.dir, `agent-${fault.type}`),
    registry: new Map([[fault.type, fault]]),
  });
  const results: ExpiryTrial[] = [];
  try {
    for (let i = 0; i < opts.trials; i++) {
      const faultId = `bench-${fault.type}-${i}`;
      const expired = once(agent.runtime, 'expired', { signal: AbortSignal.timeout(opts.leaseMs + 30_000) });
      const receipt = await agent.runtime.apply({
        faultId,
        faultType: fault.type,
        target: target.target,
        params: target.params ?? fault.example,
        leaseMs: opts.leaseMs,
      });
      // Re-arming right after apply gives the exact deadline the lease table computed.
      const expiresAt = agent.runtime.renew(faultId, opts.leaseMs);
      const [id] = (await expired) as [string];
      const doneAt = Date.now();
      if (id !== faultId) throw new Error(`expected ${faultId} to expire, got ${id}`);
      results.push({
        expiryToRevertedMs: doneAt - expiresAt,
        effectGone: await target.effectGone(receipt, faultId),
      });
    }
  } finally {
    await agent.close();
  }
  return results;
}
