import type { AgentTarget } from '../../protocol/agent-wire.ts';
import { FaultlineError } from '../../protocol/errors.ts';
import type { CohortRule, Direction, FaultMatch } from '../../protocol/proxy.ts';

/** Where one fault goes: a proxy by name, or one agent (and what the fault acts on there). */
export type FaultTarget =
  | { kind: 'proxy'; proxy: string }
  | { kind: 'agent'; agentId: string; on: AgentTarget };

/** A fault the engine wants applied to one resolved target. */
export interface FaultRequest {
  /**
   * Chosen by the engine (`fl:<runId>:<step>` on a proxy, `<runId>.<step>.<agentId>` on an agent),
   * so a retried apply or a ramp re-apply is idempotent.
   */
  id: string;
  /** The experiment's name for the target (`spec.targets` key). */
  targetName: string;
  target: FaultTarget;
  type: string;
  direction: Direction;
  params: Record<string, unknown>;
  /** Share of traffic affected, 0-100 (proxy faults; agent faults are all-or-nothing: 100). */
  percent: number;
  match?: FaultMatch;
  cohort?: CohortRule;
  seed?: number;
  maxConcurrent?: number;
}

/** How to undo a proxy fault without the process that applied it: the admin API's DELETE. */
export interface ProxyUndoRecipe {
  kind: 'proxy-fault';
  adminUrl: string;
  proxy: string;
  faultId: string;
  http: { method: 'DELETE'; url: string };
}

/**
 * How to undo an agent fault: a `revert` of `faultId` sent to `agentId`. The agent's own ledger
 * holds the concrete undo (pids, rules, files) and reverts it on its own when the lease ends.
 */
export interface AgentUndoRecipe {
  kind: 'agent-fault';
  agentId: string;
  faultId: string;
}

/** How to undo a fault without the process that applied it; journaled before the apply. */
export type UndoRecipe = ProxyUndoRecipe | AgentUndoRecipe;

export interface FaultHandle {
  id: string;
  request: FaultRequest;
  undo: UndoRecipe;
  /** Epoch ms the apply was confirmed. */
  appliedAt: number;
  /** Lease in ms the fault was applied with. */
  leaseMs: number;
}

/** Callbacks the engine passes so lease events land in the journal. */
export interface ExecutorEvents {
  renewed?(handle: FaultHandle, expiresAt: number | null): void;
  /** The target no longer has the fault (lease ran out, target restarted); no more renewals. */
  lost?(handle: FaultHandle, reason: string): void;
}

/**
 * Applies faults to one kind of target and keeps their leases alive: `ProxyExecutor` (admin API),
 * `AgentExecutor` (agents through the hub), and `ExecutorRouter`, which sends each request to the
 * one for its target kind.
 */
export interface FaultExecutor {
  /** The undo recipe `apply` would produce; written to the journal before applying. */
  undoFor(request: FaultRequest): UndoRecipe;
  /** Applies with a lease and starts renewing it every lease/3. */
  apply(request: FaultRequest): Promise<FaultHandle>;
  /** Re-applies with the same id (ramp stages change `percent`). */
  update(handle: FaultHandle, changes: Partial<Pick<FaultRequest, 'percent'>>): Promise<FaultHandle>;
  /** Renews one lease now. Rejects with LEASE_EXPIRED when the target no longer has the fault. */
  renew(handle: FaultHandle): Promise<void>;
  /**
   * Removes the fault and confirms it is gone. Idempotent. Resolves `wasActive: false` when it
   * was already gone (expired or reverted before).
   */
  revert(handle: FaultHandle): Promise<{ wasActive: boolean }>;
  /** Reverts every fault this executor applied and has not reverted, all at once. */
  revertAll(): Promise<RevertAllResult>;
  /** Faults applied and not yet reverted. */
  active(): FaultHandle[];
  /** Stops renewal timers and closes connections (does not revert). */
  close(): Promise<void>;
}

/** What `revertAll` resolves: the faults confirmed gone, and those whose revert failed (and why). */
export interface RevertAllResult {
  reverted: FaultHandle[];
  failed: { handle: FaultHandle; error: Error }[];
}

/** Reverts every handle at once with `revert` and sorts the outcomes; never rejects. */
export async function revertEach(
  handles: readonly FaultHandle[],
  revert: (handle: FaultHandle) => Promise<unknown>,
): Promise<RevertAllResult> {
  const results = await Promise.allSettled(handles.map(revert));
  const out: RevertAllResult = { reverted: [], failed: [] };
  results.forEach((r, i) => {
    const handle = handles[i]!;
    if (r.status === 'fulfilled') out.reverted.push(handle);
    else out.failed.push({ handle, error: r.reason as Error });
  });
  return out;
}

/** How one executor reverts one fault, for `revertWithRetry`. */
export interface RevertAttempt<T> {
  handle: FaultHandle;
  /** One revert call; resolves once the target confirmed the fault is gone. */
  attempt: () => Promise<T>;
  /** Keep retrying this long after the first attempt, ms. */
  retryMs: number;
  /** Whether an error is worth another try. Default: every error is. */
  retryable?: (err: unknown) => boolean;
  /** Where it ran, for the message (e.g. ` on agent a1`); empty by default. */
  where?: string;
  /** Extra details for the FAULT_REVERT_FAILED error. */
  details?: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Calls `attempt` until it resolves, retrying 20, 40, 80 … ms apart (at most 500 ms) while the error
 * is retryable and `retryMs` has not run out; then throws FAULT_REVERT_FAILED with the handle's undo
 * recipe. Short first retries because abort latency is measured through this loop.
 */
export async function revertWithRetry<T>(r: RevertAttempt<T>): Promise<T> {
  const deadline = Date.now() + r.retryMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await r.attempt();
    } catch (err) {
      if ((r.retryable && !r.retryable(err)) || Date.now() >= deadline) {
        const { handle } = r;
        throw new FaultlineError(
          'FAULT_REVERT_FAILED',
          `reverting fault ${handle.id}${r.where ?? ''} failed: ${(err as Error).message}`,
          { faultId: handle.id, ...r.details, undo: handle.undo, leaseMs: handle.leaseMs },
          { cause: err },
        );
      }
      await sleep(Math.min(20 * 2 ** attempt, 500));
    }
  }
}
