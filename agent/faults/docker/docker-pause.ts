import { z } from 'zod';
import { ContainerSelect } from '../../adapters/docker-select.ts';
import { dockerFault } from './docker-fault.ts';

export const DockerPauseParams = z.strictObject({ select: ContainerSelect.optional() });
export type DockerPauseParams = z.infer<typeof DockerPauseParams>;

/** Freezes every process of running containers (`docker pause`, cgroup freezer); revert unpauses. */
export const dockerPause = dockerFault({
  type: 'docker-pause',
  summary: 'freezes running containers (cgroup freezer); revert unpauses them',
  params: DockerPauseParams,
  example: {},
  before: z.object({ paused: z.literal(false) }),
  record: ({ info }) =>
    !info.State.Running
      ? { skip: `not running (${info.State.Status})` }
      : info.State.Paused
        ? { skip: 'already paused' }
        : { paused: false as const },
  act: ({ id }, _params, _before, docker) => docker.onContainer(id, 'pause', (c) => c.pause()),
  async restore({ id, info }, _before, docker) {
    if (info.State.Paused) await docker.onContainer(id, 'unpause', (c) => c.unpause());
  },
});
