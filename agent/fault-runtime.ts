import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { type AgentTarget, targetKind } from '../protocol/agent-wire.ts';
import { FaultlineError, isFaultlineError } from '../protocol/errors.ts';
import type {
  AgentAdapters,
  AgentFaultContext,
  AnyAgentFault,
  Receipt,
  SweepContext,
} from './faults/agent-fault.ts';
import { BackgroundTasks } from './faults/background-tasks.ts';
import { LeaseTable } from './lease-table.ts';
import type { Ledger } from './ledger.ts';
import { resolveServiceTarget } from './service-target.ts';

/** A fault the runtime is asked to apply. */
export interface ApplyRequest {
  faultId: string;
  faultType: string;
  target: AgentTarget;
  params: unknown;
  /** Lease, ms: reverted on its own unless renewed within this. */
  leaseMs: number;
}

export interface FaultRuntimeOptions {
  agentId: string;
  stateDir: string;
  ledger: Ledger;
  registry: ReadonlyMap<string, AnyAgentFault>;
  /** Clients of outside systems (Docker) handed to every fault; built once by the agent. */
  adapters: AgentAdapters;
  /** Attempts at a failing revert before giving up until the next replay. Default 3. */
  revertAttempts?: number;
}

export interface FaultRuntimeEvents {
  /** A lease ran out and the fault was reverted. */
  expired: [faultId: string];
  /** Reverted for a reason other than expiry or an explicit revert (halt, shutdown). */
  reverted: [faultId: string, reason: string];
  /** A revert failed after every attempt; the ledger entry stays open for the next replay. */
  'revert-failed': [faultId: string, error: Error];
}

interface Active {
  request: ApplyRequest;
  fault: AnyAgentFault;
  receipt: Receipt;
}

/** Fault ids remembered after revert, so a late duplicate apply is refused rather than re-injected. */
const DONE_MEMORY = 10_000;

/**
 * Applies and reverts agent faults with ledger records and lease timers. Every operation on one
 * fault id runs after the previous one finished, so apply/revert/expiry races resolve in order.
 */
export class FaultRuntime extends EventEmitter<FaultRuntimeEvents> {
  private readonly opts: FaultRuntimeOptions;
  private readonly leases: LeaseTable;
  private readonly background = new BackgroundTasks();
  private readonly active = new Map<string, Active>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly done = new Set<string>();
  private halted = false;

  constructor(opts: FaultRuntimeOptions) {
    super();
    this.opts = opts;
    this.leases = new LeaseTable((id) => {
      this.revert(id, 'expired').then(
        ({ wasActive }) => wasActive && this.emit('expired', id),
        () => {}, // reported through 'revert-failed'
      );
    });
  }

  get isHalted(): boolean {
    return this.halted;
  }

  activeIds(): string[] {
    return [...this.active.keys()];
  }

  receiptOf(faultId: string): Receipt | undefined {
    return this.active.get(faultId)?.receipt;
  }

  private ctx(faultId: string): AgentFaultContext {
    return { faultId, ...this.sweepCtx() };
  }

  private sweepCtx(): SweepContext {
    return {
      agentId: this.opts.agentId,
      stateDir: this.opts.stateDir,
      background: this.background,
      adapters: this.opts.adapters,
    };
  }

  /** Runs `op` after every earlier operation on `faultId`. */
  private serial<T>(faultId: string, op: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(faultId) ?? Promise.resolve();
    const next = prev.then(op, op);
    const settled = next.catch(() => {});
    this.chains.set(faultId, settled);
    settled.then(() => {
      if (this.chains.get(faultId) === settled) this.chains.delete(faultId);
    });
    return next;
  }

  /** Applies once per fault id: a repeat while active re-arms the lease and returns the same receipt. */
  apply(request: ApplyRequest): Promise<Receipt> {
    return this.serial(request.faultId, async () => {
      const existing = this.active.get(request.faultId);
      if (existing) {
        this.leases.arm(request.faultId, request.leaseMs);
        return existing.receipt;
      }
      if (this.halted)
        throw new FaultlineError('HALTED', 'agent is halted; run `faultline agent resume`', {});
      if (this.done.has(request.faultId)) {
        throw new FaultlineError('CONFLICT', `fault ${request.faultId} was already applied and reverted`, {
          faultId: request.faultId,
        });
      }
      const fault = this.opts.registry.get(request.faultType);
      if (!fault) {
        throw new FaultlineError('UNKNOWN_FAULT_TYPE', `this agent has no fault ${request.faultType}`, {
          type: request.faultType,
          known: [...this.opts.registry.keys()],
        });
      }
      // `service:` is resolved to containers here, so the ledger records what was acted on.
      const req = {
        ...request,
        target: await resolveServiceTarget(request.target, fault, this.opts.adapters.docker),
      };
      const kind = targetKind(req.target);
      if (!fault.targets.includes(kind)) {
        throw new FaultlineError(
          'INVALID_INPUT',
          `${fault.type} cannot act on a ${kind} target; it takes ${fault.targets.join(', ')}`,
          { target: req.target, accepted: fault.targets },
        );
      }
      const parsed = fault.params.safeParse(req.params);
      if (!parsed.success) {
        throw new FaultlineError(
          'INVALID_INPUT',
          `invalid params for ${fault.type}: ${z.prettifyError(parsed.error)}`,
          {
            issues: parsed.error.issues,
          },
        );
      }
      const ctx = this.ctx(req.faultId);
      const undo = fault.undo(req.target, parsed.data, ctx);
      const { ledger } = this.opts;
      ledger.append({ op: 'intent', ...req, params: parsed.data, undo, at: Date.now() });
      this.leases.arm(req.faultId, req.leaseMs);
      let receipt: Receipt;
      try {
        receipt = await fault.apply(req.target, parsed.data, ctx);
      } catch (err) {
        this.leases.clear(req.faultId);
        await fault.revert(undo, ctx).catch(() => {});
        ledger.append({ op: 'reverted', faultId: req.faultId, reason: 'apply-failed', at: Date.now() });
        this.remember(req.faultId);
        if (isFaultlineError(err)) throw err;
        throw new FaultlineError(
          'FAULT_APPLY_FAILED',
          `${fault.type}: ${(err as Error).message}`,
          {},
          { cause: err },
        );
      }
      ledger.append({ op: 'applied', faultId: req.faultId, receipt, at: Date.now() });
      this.active.set(req.faultId, { request: req, fault, receipt });
      return receipt;
    });
  }

  /** Re-arms a lease; resolves the new expiry (epoch ms). Rejects LEASE_EXPIRED when the fault is gone. */
  renew(faultId: string, leaseMs: number): number {
    const expiresAt = this.active.has(faultId) ? this.leases.renew(faultId, leaseMs) : undefined;
    if (expiresAt === undefined) {
      throw new FaultlineError('LEASE_EXPIRED', `fault ${faultId} is not active on this agent`, { faultId });
    }
    return expiresAt;
  }

  /** Reverts one fault. Idempotent: `wasActive: false` when it was not active. */
  revert(faultId: string, reason: string): Promise<{ wasActive: boolean }> {
    return this.serial(faultId, async () => {
      const entry = this.active.get(faultId);
      if (!entry) return { wasActive: false };
      this.leases.clear(faultId);
      const attempts = this.opts.revertAttempts ?? 3;
      for (let attempt = 1; ; attempt++) {
        try {
          const outcome = await entry.fault.revert(entry.receipt, this.ctx(faultId));
          this.opts.ledger.append({
            op: 'reverted',
            faultId,
            reason,
            vanished: outcome === 'vanished',
            at: Date.now(),
          });
          this.active.delete(faultId);
          this.remember(faultId);
          return { wasActive: true };
        } catch (err) {
          if (attempt >= attempts) {
            // Still active and still in the ledger: try again when this lease runs out, and every
            // lease after that, rather than leaving the fault without a timer.
            this.leases.arm(faultId, entry.request.leaseMs);
            this.emit('revert-failed', faultId, err as Error);
            throw new FaultlineError(
              'FAULT_REVERT_FAILED',
              `revert of ${faultId}: ${(err as Error).message}`,
              {
                faultId,
              },
            );
          }
          await sleep(100 * 2 ** attempt);
        }
      }
    });
  }

  /** Reverts every active fault; `reverted` is emitted for each with `reason`. */
  async revertAll(reason: string): Promise<void> {
    await Promise.allSettled(
      this.activeIds().map((id) =>
        this.revert(id, reason).then(({ wasActive }) => wasActive && this.emit('reverted', id, reason)),
      ),
    );
  }

  /** Reverts everything and refuses new faults until `resume`. */
  async halt(): Promise<void> {
    this.halted = true;
    await this.revertAll('halt');
  }

  resume(): void {
    this.halted = false;
  }

  /**
   * After a start: reverts every open ledger entry (receipt, or the undo recipe when apply never
   * finished), runs every fault's sweep, then compacts the ledger. Entries whose revert fails stay.
   */
  async replay(): Promise<{ reverted: number; swept: number; failed: string[] }> {
    const { ledger, registry } = this.opts;
    let reverted = 0;
    const failed: string[] = [];
    for (const { intent, receipt } of ledger.open()) {
      const fault = registry.get(intent.faultType);
      if (!fault) {
        failed.push(intent.faultId);
        continue;
      }
      try {
        const outcome = await fault.revert(receipt ?? intent.undo, this.ctx(intent.faultId));
        const vanished = outcome === 'vanished';
        ledger.append({
          op: 'reverted',
          faultId: intent.faultId,
          reason: 'replay',
          vanished,
          at: Date.now(),
        });
        reverted++;
      } catch {
        failed.push(intent.faultId);
      }
    }
    let swept = 0;
    const sweepCtx = this.sweepCtx();
    for (const fault of new Set(registry.values())) swept += fault.sweep ? await fault.sweep(sweepCtx) : 0;
    ledger.compact();
    return { reverted, swept, failed };
  }

  private remember(faultId: string): void {
    this.done.add(faultId);
    if (this.done.size > DONE_MEMORY) this.done.delete(this.done.values().next().value!);
  }

  /** Reverts everything (reason `shutdown`) and stops timers. */
  async close(): Promise<void> {
    await this.revertAll('shutdown');
    this.leases.clearAll();
    this.background.stopAll();
  }
}
