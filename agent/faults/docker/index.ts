import type { AnyAgentFault } from '../agent-fault.ts';
import { dockerKill } from './docker-kill.ts';
import { dockerNetworkDisconnect } from './docker-network-disconnect.ts';
import { dockerPause } from './docker-pause.ts';
import { dockerResources } from './docker-resources.ts';
import { dockerRestart } from './docker-restart.ts';
import { dockerStop } from './docker-stop.ts';

/** Container faults (Docker Engine API through dockerode), one file each in this folder. */
export const dockerFaults: readonly AnyAgentFault[] = [
  dockerKill,
  dockerStop,
  dockerPause,
  dockerRestart,
  dockerNetworkDisconnect,
  dockerResources,
];
