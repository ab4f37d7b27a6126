import { z } from 'zod';
import type { AgentFault } from './agent-fault.ts';
import { noWorkersYet, startWorkers, stopWorkers, sweepWorkers } from './worker-processes.ts';

export const MemoryHogParams = z.strictObject({
  /** Memory taken at once and held, MiB. */
  sizeMb: z.number().positive().max(1_048_576),
});
export type MemoryHogParams = z.infer<typeof MemoryHogParams>;

/**
 * Takes `sizeMb` at once in a child process (every page touched) and holds it; revert kills the
 * child. Placed in the target's cgroups like memory-leak.
 */
export const memoryHog: AgentFault<MemoryHogParams> = {
  type: 'memory-hog',
  targets: ['host', 'pid', 'container'],
  summary: 'takes sizeMb of memory at once in a child process and holds it; revert frees it',
  params: MemoryHogParams,
  example: { sizeMb: 32 },
  undo: noWorkersYet,
  apply: (target, params, ctx) =>
    startWorkers(
      'memory-worker.ts',
      1,
      ['--rate-mb-per-sec', '0', '--max-mb', String(params.sizeMb)],
      target,
      ctx,
    ),
  revert: stopWorkers,
  sweep: sweepWorkers,
};
