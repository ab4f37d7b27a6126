import type { AnyAgentFault } from '../agent-fault.ts';

/** Container faults (Docker Engine API through dockerode), one file each in this folder. */
export const dockerFaults: readonly AnyAgentFault[] = [];
