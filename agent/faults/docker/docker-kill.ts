import { constants } from 'node:os';
import { z } from 'zod';
import { ContainerSelect } from '../../adapters/docker-select.ts';
import { dockerFault } from './docker-fault.ts';

const SIGNALS = Object.keys(constants.signals) as [
  keyof typeof constants.signals,
  ...(keyof typeof constants.signals)[],
];

export const DockerKillParams = z.strictObject({
  /** Signal the engine sends to the container's init process. Default SIGKILL. */
  signal: z.enum(SIGNALS).default('SIGKILL'),
  select: ContainerSelect.optional(),
});
export type DockerKillParams = z.infer<typeof DockerKillParams>;

const Before = z.object({ running: z.literal(true) });

/**
 * Sends a signal to running containers (`docker kill`). Revert starts again every one of them
 * that is still not running: a container the fault left dead is a fault left behind.
 */
export const dockerKill = dockerFault({
  type: 'docker-kill',
  summary: 'sends signal (default SIGKILL) to running containers; revert starts those still not running',
  params: DockerKillParams,
  example: { signal: 'SIGKILL' },
  before: Before,
  record: ({ info }) =>
    info.State.Running ? { running: true as const } : { skip: `not running (${info.State.Status})` },
  act: ({ id }, params, _before, docker) =>
    docker.onContainer(id, 'kill', (c) => c.kill({ signal: params.signal })),
  async restore({ id, info }, _before, docker) {
    if (!info.State.Running) await docker.onContainer(id, 'start', (c) => c.start());
  },
});
