import type { AnyAgentFault } from './agent-fault.ts';
import { cpuStress } from './cpu-stress.ts';
import { diskFill } from './disk-fill.ts';
import { dockerFaults } from './docker/index.ts';
import { memoryHog } from './memory-hog.ts';
import { memoryLeak } from './memory-leak.ts';
import { networkFaults } from './network/index.ts';
import { processKill } from './process-kill.ts';

/**
 * Every agent fault type by name. Adding a fault is one file and one line here (container and
 * network faults are listed in their folders' index.ts).
 */
export const agentFaultRegistry: ReadonlyMap<string, AnyAgentFault> = new Map(
  [memoryLeak, memoryHog, cpuStress, diskFill, processKill, ...dockerFaults, ...networkFaults].map((f) => [
    f.type,
    f,
  ]),
);
