import { z } from 'zod';
import type { AgentFault } from './agent-fault.ts';
import { noWorkersYet, startWorkers, stopWorkers, sweepWorkers } from './worker-processes.ts';

export const MemoryLeakParams = z.strictObject({
  /** Growth rate, MiB per second. */
  rateMbPerSec: z.number().positive().max(10_240),
  /** Size at which growth stops and the memory is held, MiB. */
  maxMb: z.number().positive().max(1_048_576),
});
export type MemoryLeakParams = z.infer<typeof MemoryLeakParams>;

/**
 * Grows memory in a child process (touching every page so RSS really grows) until `maxMb`; revert
 * kills the child, which frees it all at once. For a `pid:`/`container:` target the child joins the
 * target's memory, cpu, cpuacct and pids cgroups before it allocates, so the target's cgroup usage
 * (and limit, and OOM killer) sees the leak; on `host` it stays in the agent's cgroups.
 */
export const memoryLeak: AgentFault<MemoryLeakParams> = {
  type: 'memory-leak',
  targets: ['host', 'pid', 'container'],
  summary: 'grows memory at rateMbPerSec up to maxMb in a child process; revert frees it at once',
  params: MemoryLeakParams,
  example: { rateMbPerSec: 20, maxMb: 40 },
  undo: noWorkersYet,
  apply: (target, params, ctx) =>
    startWorkers(
      'memory-worker.ts',
      1,
      ['--rate-mb-per-sec', String(params.rateMbPerSec), '--max-mb', String(params.maxMb)],
      target,
      ctx,
    ),
  revert: stopWorkers,
  sweep: sweepWorkers,
};
