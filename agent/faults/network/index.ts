import type { AnyAgentFault } from '../agent-fault.ts';

/** Network faults (iptables rules and tc qdiscs tagged as ours), one file each in this folder. */
export const networkFaults: readonly AnyAgentFault[] = [];
