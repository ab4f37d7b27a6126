import { DockerAdapter } from '../adapters/docker.ts';
import type { AgentFaultContext } from '../faults/agent-fault.ts';
import { BackgroundTasks } from '../faults/background-tasks.ts';

/** Test support: the context a fault call gets, with fresh background tasks and a Docker adapter. */
export function testFaultContext(
  fields: Pick<AgentFaultContext, 'faultId' | 'agentId' | 'stateDir'>,
): AgentFaultContext {
  return { ...fields, background: new BackgroundTasks(), adapters: { docker: new DockerAdapter() } };
}
