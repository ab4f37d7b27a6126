import { FaultlineError } from '../../protocol/errors.ts';
import type {
  FaultExecutor,
  FaultHandle,
  FaultRequest,
  FaultTarget,
  RevertAllResult,
  UndoRecipe,
} from './fault-executor.ts';

/** The executor for each kind of target a run may reach; a kind left out is not reachable. */
export type ExecutorsByKind = Partial<Record<FaultTarget['kind'], FaultExecutor>>;

/**
 * One `FaultExecutor` over several: each request goes to the executor of its target's kind, so
 * the engine applies, reverts and aborts proxy and agent faults through one interface.
 */
export class ExecutorRouter implements FaultExecutor {
  private readonly executors: ExecutorsByKind;

  constructor(executors: ExecutorsByKind) {
    this.executors = executors;
  }

  private for(request: FaultRequest): FaultExecutor {
    const executor = this.executors[request.target.kind];
    if (!executor) {
      throw new FaultlineError(
        'UNSUPPORTED',
        `fault ${request.id} targets ${request.target.kind === 'agent' ? 'an agent' : 'a proxy'}, and this run has no way to reach one`,
        { faultId: request.id, target: request.targetName },
      );
    }
    return executor;
  }

  private all(): FaultExecutor[] {
    return [...new Set(Object.values(this.executors))];
  }

  undoFor(request: FaultRequest): UndoRecipe {
    return this.for(request).undoFor(request);
  }

  apply(request: FaultRequest): Promise<FaultHandle> {
    return this.for(request).apply(request);
  }

  update(handle: FaultHandle, changes: Partial<Pick<FaultRequest, 'percent'>>): Promise<FaultHandle> {
    return this.for(handle.request).update(handle, changes);
  }

  renew(handle: FaultHandle): Promise<void> {
    return this.for(handle.request).renew(handle);
  }

  revert(handle: FaultHandle): Promise<{ wasActive: boolean }> {
    return this.for(handle.request).revert(handle);
  }

  /** Every executor at once: an abort reverts proxy and agent faults in parallel. */
  async revertAll(): Promise<RevertAllResult> {
    const results = await Promise.all(this.all().map((e) => e.revertAll()));
    return {
      reverted: results.flatMap((r) => r.reverted),
      failed: results.flatMap((r) => r.failed),
    };
  }

  active(): FaultHandle[] {
    return this.all().flatMap((e) => e.active());
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((e) => e.close()));
  }
}
