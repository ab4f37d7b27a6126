import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { AgentTarget } from '../../protocol/agent-wire.ts';
import { FaultlineError, isFaultlineError } from '../../protocol/errors.ts';
import { joinCgroups } from '../cgroups/join-cgroup.ts';
import { removeEmptyCgroups } from '../cgroups/remove-empty-cgroups.ts';
import { Placement, placementOf } from '../cgroups/target-placement.ts';
import type { AgentFaultContext, Receipt, RevertOutcome, SweepContext } from './agent-fault.ts';
import { isSameProcess, killTagged, type SpawnedProcess, spawnTagged } from './tagged-process.ts';

/**
 * The shared half of faults that act by running worker processes (memory-leak, memory-hog,
 * cpu-stress): receipt shape, start (placed in the target's cgroups), revert by kill, sweep by
 * argv marker (which finds workers in whatever cgroup they were placed).
 */

const ProcessRefSchema = z.object({ pid: z.number().int().positive(), startTime: z.number() });
export const WorkerReceipt = z.object({
  processes: z.array(ProcessRefSchema).default([]),
  /** Cgroup directories the workers were moved into; empty when they run in the agent's own. */
  cgroups: z.array(z.string()).default([]),
  /** The `pid:`/`container:` target the workers were placed with; absent on `host`. */
  placement: Placement.optional(),
});
export type WorkerReceipt = z.infer<typeof WorkerReceipt>;

/** Path of a worker script in ./workers. */
export function workerPath(name: string): string {
  return fileURLToPath(new URL(`./workers/${name}`, import.meta.url));
}

/** The undo recipe before any worker exists: revert then kills by marker alone. */
export function noWorkersYet(): Receipt {
  return { processes: [] };
}

/**
 * Starts `count` workers, each held at its start gate (workers/start-gate.ts) until it has joined
 * the cgroups of `target`, so all it allocates or burns is charged there; a placed worker also
 * ends when its target ends (workers/target-watch.ts). If one fails to start or to join, kills
 * those already started and throws FAULT_APPLY_FAILED (naming the cgroup).
 */
export async function startWorkers(
  script: string,
  count: number,
  args: string[],
  target: AgentTarget,
  ctx: AgentFaultContext,
): Promise<WorkerReceipt> {
  const placement = await placementOf(target, ctx);
  const cgroups = placement?.cgroups ?? [];
  const watch = placement
    ? ['--target-pid', String(placement.pid), '--target-start-time', String(placement.startTime)]
    : [];
  const started: SpawnedProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const worker = spawnTagged(workerPath(script), ctx, [...args, ...watch]);
      started.push(worker);
      joinCgroups(cgroups, worker.ref.pid);
    }
  } catch (err) {
    for (const worker of started) worker.stdin.destroy();
    await killTagged(
      started.map((w) => w.ref),
      { faultId: ctx.faultId, agentId: ctx.agentId },
    );
    if (isFaultlineError(err)) throw err;
    throw new FaultlineError(
      'FAULT_APPLY_FAILED',
      `could not start ${script}: ${(err as Error).message}`,
      { cgroups },
      { cause: err },
    );
  }
  // Every worker is in place: open the gates together.
  for (const worker of started) worker.stdin.end('go\n');
  return { processes: started.map((w) => w.ref), cgroups, placement };
}

/**
 * Kills the workers. A container that stopped while our workers were in its cgroups could not have
 * them removed (Docker's cgroupfs driver removes them once, at exit, and nobody later), so once the
 * container's init process is gone its cgroups left empty are removed here.
 */
export async function stopWorkers(receipt: Receipt, ctx: AgentFaultContext): Promise<RevertOutcome> {
  const { processes, placement } = WorkerReceipt.parse(receipt);
  const killed = await killTagged(processes, { faultId: ctx.faultId, agentId: ctx.agentId });
  let removed = 0;
  if (placement?.kind === 'container' && !isSameProcess(placement)) {
    removed = await removeEmptyCgroups(placement.cgroups);
  }
  return killed > 0 || removed > 0 ? 'reverted' : 'vanished';
}

/** Kills every worker this agent started, whatever its fault (run at start, after ledger replay). */
export function sweepWorkers(ctx: SweepContext): Promise<number> {
  return killTagged([], { agentId: ctx.agentId });
}
