import { z } from 'zod';
import { ContainerSelect } from '../../adapters/docker-select.ts';
import { dockerFault } from './docker-fault.ts';

export const DockerRestartParams = z.strictObject({
  /** Seconds the engine waits after SIGTERM before SIGKILL on the way down. Default 10. */
  timeoutSec: z.number().int().min(0).max(3600).default(10),
  select: ContainerSelect.optional(),
});
export type DockerRestartParams = z.infer<typeof DockerRestartParams>;

/** Restarts running containers (`docker restart`); revert makes sure each is running. */
export const dockerRestart = dockerFault({
  type: 'docker-restart',
  summary: 'restarts running containers (stop with timeoutSec, then start); revert ensures they run',
  params: DockerRestartParams,
  example: { timeoutSec: 0 },
  before: z.object({ running: z.literal(true) }),
  record: ({ info }) =>
    info.State.Running ? { running: true as const } : { skip: `not running (${info.State.Status})` },
  act: ({ id }, params, _before, docker) =>
    docker.onContainer(id, 'restart', (c) => c.restart({ t: params.timeoutSec })),
  async restore({ id, info }, _before, docker) {
    if (info.State.Paused) return; // paused by someone since; running, and not ours to unpause
    if (!info.State.Running) await docker.onContainer(id, 'start', (c) => c.start());
  },
});
