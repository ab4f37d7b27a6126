import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { FaultlineError } from '../../protocol/errors.ts';
import type { AgentFaultContext, Receipt, RevertOutcome, SweepContext } from './agent-fault.ts';
import { killTagged, spawnTagged } from './tagged-process.ts';

/**
 * The shared half of faults that act by running worker processes (memory-leak, memory-hog,
 * cpu-stress): receipt shape, start, revert by kill, sweep by argv marker.
 */

const ProcessRefSchema = z.object({ pid: z.number().int().positive(), startTime: z.number() });
export const WorkerReceipt = z.object({ processes: z.array(ProcessRefSchema).default([]) });

/** Path of a worker script in ./workers. */
export function workerPath(name: string): string {
  return fileURLToPath(new URL(`./workers/${name}`, import.meta.url));
}

/** The undo recipe before any worker exists: revert then kills by marker alone. */
export function noWorkersYet(): Receipt {
  return { processes: [] };
}

/** Starts `count` workers; if one fails to start, kills those already started and throws. */
export async function startWorkers(
  script: string,
  count: number,
  args: string[],
  ctx: AgentFaultContext,
): Promise<Receipt> {
  const processes = [];
  try {
    for (let i = 0; i < count; i++) processes.push(spawnTagged(workerPath(script), ctx, args));
  } catch (err) {
    await killTagged(processes, { faultId: ctx.faultId, agentId: ctx.agentId });
    throw new FaultlineError(
      'FAULT_APPLY_FAILED',
      `could not start ${script}: ${(err as Error).message}`,
      {},
      {
        cause: err,
      },
    );
  }
  return { processes };
}

export async function stopWorkers(receipt: Receipt, ctx: AgentFaultContext): Promise<RevertOutcome> {
  const { processes } = WorkerReceipt.parse(receipt);
  const killed = await killTagged(processes, { faultId: ctx.faultId, agentId: ctx.agentId });
  return killed > 0 ? 'reverted' : 'vanished';
}

/** Kills every worker this agent started, whatever its fault (run at start, after ledger replay). */
export function sweepWorkers(ctx: SweepContext): Promise<number> {
  return killTagged([], { agentId: ctx.agentId });
}
