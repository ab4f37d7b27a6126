import { z } from 'zod';
import type { AgentTarget } from '../../protocol/agent-wire.ts';
import { FaultlineError } from '../../protocol/errors.ts';
import type { AgentFaultContext } from '../faults/agent-fault.ts';
import { readProcess } from '../faults/tagged-process.ts';
import { cgroupDirsOfProcess } from './join-cgroup.ts';

/** Where workers acting on a `pid:`/`container:` target go; recorded in the receipt. */
export const Placement = z.object({
  kind: z.enum(['pid', 'container']),
  /** The target process (a container's init process, as the host sees it). */
  pid: z.number().int().positive(),
  /** /proc/PID/stat start time of that process, clock ticks since boot: tells a recycled pid apart. */
  startTime: z.number(),
  /** Cgroup directories the workers join (see cgroupDirsFor). */
  cgroups: z.array(z.string()),
});
export type Placement = z.infer<typeof Placement>;

/**
 * The placement of workers acting on `target`: none for `host` (they stay in the agent's cgroups),
 * the cgroups of the process for `pid:N`, those of the container's init process for
 * `container:NAME_OR_ID`. Throws FAULT_APPLY_FAILED when the target is gone.
 */
export async function placementOf(
  target: AgentTarget,
  ctx: Pick<AgentFaultContext, 'adapters'>,
): Promise<Placement | undefined> {
  const [kind, ...rest] = target.split(':');
  const name = rest.join(':');
  let pid: number;
  if (kind === 'host') return undefined;
  if (kind === 'pid') pid = Number(name);
  else if (kind === 'container') pid = await ctx.adapters.docker.containerPid(name);
  else {
    throw new FaultlineError('INVALID_INPUT', `a worker cannot be placed in the cgroups of ${target}`, {
      target,
    });
  }
  // Start time first: cgroups read after it belong to that very process (or it is gone and we fail).
  const proc = readProcess(pid);
  if (proc === undefined) {
    throw new FaultlineError('FAULT_APPLY_FAILED', `target process ${pid} is gone`, { target, pid });
  }
  return { kind, pid, startTime: proc.startTime, cgroups: cgroupDirsOfProcess(pid) };
}
