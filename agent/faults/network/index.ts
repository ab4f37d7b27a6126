import type { AnyAgentFault } from '../agent-fault.ts';
import { networkBandwidth } from './network-bandwidth.ts';
import { networkBlackhole } from './network-blackhole.ts';
import { networkLatency } from './network-latency.ts';
import { networkLoss } from './network-loss.ts';

/** Network faults (iptables rules and tc qdiscs tagged as ours), one file each in this folder. */
export const networkFaults: readonly AnyAgentFault[] = [
  networkBlackhole,
  networkLoss,
  networkBandwidth,
  networkLatency,
];
