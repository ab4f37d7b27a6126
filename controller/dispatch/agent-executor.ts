import type { AgentTarget } from '../../protocol/agent-wire.ts';
import { FaultlineError, isFaultlineError } from '../../protocol/errors.ts';
import type { AgentHub, HeldFault } from './agent-hub.ts';
import {
  type AgentUndoRecipe,
  type ExecutorEvents,
  type FaultExecutor,
  type FaultHandle,
  type FaultRequest,
  type RevertAllResult,
  revertEach,
  revertWithRetry,
} from './fault-executor.ts';

/** Options for {@link AgentExecutor}. */
export interface AgentExecutorOptions {
  /** The hub the agents are connected to; the executor neither starts nor closes it. */
  hub: AgentHub;
  /** Lease in ms each fault is applied with; the hub renews it every lease/3. Default 5000. */
  leaseMs?: number;
  /**
   * How long a revert keeps retrying while the agent is unreachable, ms. Default: the lease (after
   * it the agent has reverted the fault on its own anyway).
   */
  revertRetryMs?: number;
  events?: ExecutorEvents;
}

/** A fault on one agent: its undo is a `revert` of the fault id sent to that agent. */
export type AgentFaultHandle = FaultHandle & { undo: AgentUndoRecipe };

interface Entry {
  handle: AgentFaultHandle;
  /** Set once a revert started, so a loss reported meanwhile is not a loss. */
  reverting: boolean;
}

function agentOf(request: FaultRequest): { agentId: string; on: AgentTarget } {
  if (request.target.kind !== 'agent') {
    throw new FaultlineError('INTERNAL', `fault ${request.id} targets a proxy, not an agent`, {
      faultId: request.id,
    });
  }
  return request.target;
}

/** The undo recipe of an agent fault; needs no hub, so `faultline plan` can show it offline. */
export function agentUndoRecipe(request: FaultRequest): AgentUndoRecipe {
  return { kind: 'agent-fault', agentId: agentOf(request).agentId, faultId: request.id };
}

/** The agent is away (or slow): worth asking again until its lease ends the fault anyway. */
function transient(err: unknown): boolean {
  return isFaultlineError(err, 'UNREACHABLE') || isFaultlineError(err, 'UPSTREAM_TIMEOUT');
}

/**
 * Applies faults on agents through the hub, one fault (one lease) per agent. Renewals are the
 * hub's; a fault the agent no longer holds (lease expired there, halted, agent disconnected) is
 * reported through `events.lost` once, unless a revert of it had already started.
 */
export class AgentExecutor implements FaultExecutor {
  private readonly hub: AgentHub;
  private readonly leaseMs: number;
  private readonly revertRetryMs: number;
  private readonly events: ExecutorEvents;
  private readonly entries = new Map<string, Entry>();
  private readonly onExpired = (fault: HeldFault, reason: string) =>
    this.lose(fault.faultId, `${fault.faultType} on agent ${fault.agentId} is gone: ${reason}`);
  private readonly onAgentLost = (agentId: string, reason: string) => {
    for (const e of [...this.entries.values()]) {
      if (e.handle.undo.agentId !== agentId) continue;
      this.lose(
        e.handle.id,
        `agent ${agentId} disconnected (${reason}); it reverts the fault on its own within the lease (${e.handle.leaseMs} ms)`,
      );
      // Stop the hub renewing it: should the agent come back, the fault must still end with its lease.
      this.hub.revert(agentId, e.handle.id).catch(() => {});
    }
  };

  constructor(opts: AgentExecutorOptions) {
    this.hub = opts.hub;
    this.leaseMs = opts.leaseMs ?? 5_000;
    this.revertRetryMs = opts.revertRetryMs ?? this.leaseMs;
    this.events = opts.events ?? {};
    this.hub.on('fault-expired', this.onExpired);
    this.hub.on('fault-reverted', this.onExpired);
    this.hub.on('agent-lost', this.onAgentLost);
  }

  undoFor(request: FaultRequest): AgentUndoRecipe {
    return agentUndoRecipe(request);
  }

  async apply(request: FaultRequest): Promise<AgentFaultHandle> {
    const { agentId, on } = agentOf(request);
    try {
      await this.hub.apply(agentId, {
        faultId: request.id,
        faultType: request.type,
        target: on,
        params: request.params,
        leaseMs: this.leaseMs,
      });
    } catch (err) {
      // An ack that timed out may hide an apply that happened: take it back (harmless otherwise;
      // the agent's lease would end it too).
      if (transient(err)) await this.hub.revert(agentId, request.id).catch(() => {});
      const code = isFaultlineError(err) && !transient(err) ? err.code : 'FAULT_APPLY_FAILED';
      throw new FaultlineError(
        code,
        `applying ${request.type} on agent ${agentId} (${on}) failed: ${(err as Error).message}`,
        { faultId: request.id, agentId, ...(isFaultlineError(err) ? err.details : {}) },
        { cause: err },
      );
    }
    const handle: AgentFaultHandle = {
      id: request.id,
      request,
      undo: this.undoFor(request),
      appliedAt: Date.now(),
      leaseMs: this.leaseMs,
    };
    this.entries.set(request.id, { handle, reverting: false });
    return handle;
  }

  /** Agent faults have no traffic share: the fault is on for the whole agent, so nothing changes. */
  async update(handle: FaultHandle): Promise<FaultHandle> {
    return handle;
  }

  async renew(handle: FaultHandle): Promise<void> {
    const expiresAt = await this.hub.renew(agentOf(handle.request).agentId, handle.id);
    this.events.renewed?.(handle, expiresAt);
  }

  async revert(handle: FaultHandle): Promise<{ wasActive: boolean }> {
    const { agentId } = agentOf(handle.request);
    const entry = this.entries.get(handle.id);
    if (entry) entry.reverting = true;
    return revertWithRetry({
      handle,
      retryMs: this.revertRetryMs,
      retryable: transient,
      where: ` on agent ${agentId}`,
      details: { agentId },
      attempt: async () => {
        // The agent acks only after its revert finished (workers killed, rules deleted): the
        // ack is the confirmation.
        const result = await this.hub.revert(agentId, handle.id);
        this.entries.delete(handle.id);
        return result;
      },
    });
  }

  revertAll(): Promise<RevertAllResult> {
    return revertEach(this.active(), (h) => this.revert(h));
  }

  active(): FaultHandle[] {
    return [...this.entries.values()].map((e) => e.handle);
  }

  /** Stops listening to the hub. Does not revert, and leaves the hub (and its renewals) to its owner. */
  async close(): Promise<void> {
    this.hub.off('fault-expired', this.onExpired);
    this.hub.off('fault-reverted', this.onExpired);
    this.hub.off('agent-lost', this.onAgentLost);
  }

  private lose(faultId: string, reason: string): void {
    const entry = this.entries.get(faultId);
    if (!entry || entry.reverting) return;
    this.entries.delete(faultId);
    this.events.lost?.(entry.handle, reason);
  }
}
