import { z } from 'zod';
import { ContainerSelect } from '../../adapters/docker-select.ts';
import { dockerFault } from './docker-fault.ts';

export const DockerStopParams = z.strictObject({
  /** Seconds the engine waits after SIGTERM before SIGKILL. Default 10. */
  timeoutSec: z.number().int().min(0).max(3600).default(10),
  select: ContainerSelect.optional(),
});
export type DockerStopParams = z.infer<typeof DockerStopParams>;

/** Stops running containers (`docker stop`); revert starts them again. */
export const dockerStop = dockerFault({
  type: 'docker-stop',
  summary: 'stops running containers (SIGTERM, SIGKILL after timeoutSec); revert starts them again',
  params: DockerStopParams,
  example: { timeoutSec: 1 },
  before: z.object({ running: z.literal(true) }),
  record: ({ info }) =>
    info.State.Running ? { running: true as const } : { skip: `not running (${info.State.Status})` },
  act: ({ id }, params, _before, docker) =>
    docker.onContainer(id, 'stop', (c) => c.stop({ t: params.timeoutSec })),
  async restore({ id, info }, _before, docker) {
    if (!info.State.Running) await docker.onContainer(id, 'start', (c) => c.start());
  },
});
