import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { AgentFault } from './agent-fault.ts';
import { noWorkersYet, startWorkers, stopWorkers, sweepWorkers } from './worker-processes.ts';

export const CpuStressParams = z.strictObject({
  /** Share of each stressed core kept busy, 1-100 percent. */
  percent: z.number().min(1).max(100),
  /** Number of cores stressed (one worker process each). Default 1. */
  cores: z.number().int().min(1).max(1024).default(1),
});
export type CpuStressParams = z.infer<typeof CpuStressParams>;

/**
 * Keeps `cores` worker processes each `percent` busy (duty cycle in ~10 ms slices); revert kills
 * them. For a `pid:`/`container:` target the workers join its cgroups before they spin, so they
 * share its CPU shares and quota and show in its cpuacct usage.
 */
export const cpuStress: AgentFault<CpuStressParams> = {
  type: 'cpu-stress',
  targets: ['host', 'pid', 'container'],
  summary: 'keeps `cores` cores `percent` busy with worker processes; revert kills them',
  params: CpuStressParams,
  example: { percent: 50, cores: 1 },
  undo: noWorkersYet,
  apply: (target, params, ctx) =>
    // More workers than cores only share the same cores; cap so the duty cycle stays meaningful.
    startWorkers(
      'cpu-worker.ts',
      Math.min(params.cores, availableParallelism()),
      ['--percent', String(params.percent)],
      target,
      ctx,
    ),
  revert: stopWorkers,
  sweep: sweepWorkers,
};
