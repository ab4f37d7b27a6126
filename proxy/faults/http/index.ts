import { abortFault } from './abort.ts';
import { awsFault } from './aws.ts';
import { bandwidthFault } from './bandwidth.ts';
import { latencyFault } from './latency.ts';
import { resetFault } from './reset.ts';
import { timeoutFault } from './timeout.ts';

/** Every HTTP-mode fault type; registry.ts maps them by name. */
export const httpFaults = [
  latencyFault,
  abortFault,
  resetFault,
  timeoutFault,
  bandwidthFault,
  awsFault,
] as const;
