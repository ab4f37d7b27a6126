import type { AgentTarget } from '../protocol/agent-wire.ts';
import { FaultlineError } from '../protocol/errors.ts';
import type { DockerAdapter } from './adapters/docker.ts';
import type { AnyAgentFault } from './faults/agent-fault.ts';

/** The label Docker Compose puts on every container of a service. */
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';

/**
 * A `service:NAME` target is the Compose service NAME: the containers carrying
 * `com.docker.compose.service=NAME`. Faults that act on a label selector get every one of them
 * (`containers:`); faults that act on one container get the first running one by name, so a
 * sidecar scoped to a one-container service acts on that container. Other targets pass unchanged.
 * Resolved before the ledger's intent is written, so replay reverts exactly what was acted on.
 */
export async function resolveServiceTarget(
  target: AgentTarget,
  fault: AnyAgentFault,
  docker: DockerAdapter,
): Promise<AgentTarget> {
  if (!target.startsWith('service:')) return target;
  const service = target.slice('service:'.length);
  if (fault.targets.includes('containers')) return `containers:${COMPOSE_SERVICE_LABEL}=${service}`;
  if (!fault.targets.includes('container')) return target; // refused by the target-kind check
  const containers = await docker.listByLabels({ [COMPOSE_SERVICE_LABEL]: service });
  const running: string[] = [];
  for (const c of containers.sort((a, b) => a.name.localeCompare(b.name))) {
    if ((await docker.inspect(c.id))?.State.Running) running.push(c.name);
  }
  if (running.length === 0) {
    throw new FaultlineError('FAULT_APPLY_FAILED', `service ${service} has no running container`, {
      target,
      label: `${COMPOSE_SERVICE_LABEL}=${service}`,
      containers: containers.map((c) => c.name),
    });
  }
  return `container:${running[0]}`;
}
