import type { AgentTarget } from '../../protocol/agent-wire.ts';
import { FaultlineError } from '../../protocol/errors.ts';
import type { AgentFaultContext } from '../faults/agent-fault.ts';
import { cgroupDirsOfProcess } from './join-cgroup.ts';

/**
 * The cgroup directories a worker acting on `target` joins: none for `host` (it stays in the
 * agent's cgroups), those of the process for `pid:N`, those of the container's init process for
 * `container:NAME_OR_ID`. Throws FAULT_APPLY_FAILED when the target is gone.
 */
export async function cgroupDirsOfTarget(
  target: AgentTarget,
  ctx: Pick<AgentFaultContext, 'adapters'>,
): Promise<string[]> {
  const [kind, ...rest] = target.split(':');
  const name = rest.join(':');
  switch (kind) {
    case 'host':
      return [];
    case 'pid':
      return cgroupDirsOfProcess(Number(name));
    case 'container':
      return cgroupDirsOfProcess(await ctx.adapters.docker.containerPid(name));
    default:
      throw new FaultlineError('INVALID_INPUT', `a worker cannot be placed in the cgroups of ${target}`, {
        target,
      });
  }
}
