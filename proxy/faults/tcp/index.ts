import { tcpBandwidthFault } from './bandwidth.ts';
import { tcpBlackholeFault } from './blackhole.ts';
import { tcpLatencyFault } from './latency.ts';
import { tcpLimitDataFault } from './limit-data.ts';
import { tcpRefuseFault } from './refuse.ts';
import { tcpResetPeerFault } from './reset-peer.ts';
import { tcpSlicerFault } from './slicer.ts';
import { tcpSlowCloseFault } from './slow-close.ts';
import { tcpTimeoutFault } from './timeout.ts';

/** Every TCP-mode proxy fault; registry.ts maps them by type. */
export const tcpFaults = [
  tcpLatencyFault,
  tcpBandwidthFault,
  tcpSlowCloseFault,
  tcpTimeoutFault,
  tcpResetPeerFault,
  tcpSlicerFault,
  tcpLimitDataFault,
  tcpBlackholeFault,
  tcpRefuseFault,
] as const;
