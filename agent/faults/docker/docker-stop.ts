import { z } from 'zod';
import { ContainerSelect } from '../../adapters/docker-select.ts';
import { dockerFault } from './docker-fault.ts';

export const DockerStopParams = z.strictObject({
  /** Seconds the engine waits after SIGTERM before SIGKILL. Default 10. */
  timeoutSec: z.number().int().min(0).max(3600).default(10),
  select: ContainerSelect.optional(),
});
export type DockerStopParams = z.infer<typeof DockerStopParams>;

/** Seconds past the stop's own timeoutSec that a revert waits for a stop still in the engine. */
const STOP_GRACE_SEC = 5;

/** Stops running containers (`docker stop`); revert starts them again. */
export const dockerStop = dockerFault({
  type: 'docker-stop',
  summary: 'stops running containers (SIGTERM, SIGKILL after timeoutSec); revert starts them again',
  params: DockerStopParams,
  example: { timeoutSec: 1 },
  // timeoutSec bounds a stop that may still be running in the engine at revert (plans written
  // before it was recorded lack it: the default then).
  before: z.object({ running: z.literal(true), timeoutSec: z.number().int().min(0).default(10) }),
  record: ({ info }, params) =>
    info.State.Running
      ? { running: true as const, timeoutSec: params.timeoutSec }
      : { skip: `not running (${info.State.Status})` },
  act: ({ id }, params, _before, docker) =>
    docker.onContainer(id, 'stop', (c) => c.stop({ t: params.timeoutSec })),
  async restore({ id, info }, before, docker, applyMayBeRunning) {
    let running = info.State.Running;
    // The agent may have died while the engine was carrying out its stop (SIGTERM, up to
    // timeoutSec, SIGKILL). Starting the container now would be undone when that stop finishes,
    // leaving the fault applied: wait the stop out first.
    if (running && applyMayBeRunning)
      running = await docker.waitNotRunning(id, (before.timeoutSec + STOP_GRACE_SEC) * 1000);
    if (!running) await docker.onContainer(id, 'start', (c) => c.start());
  },
});
