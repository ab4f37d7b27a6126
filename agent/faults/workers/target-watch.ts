// A worker placed in the cgroups of a target ends when the target ends, as a leak inside it would:
// it must not hold memory in (and keep alive) the cgroup of a container that stopped, nor charge
// its leak to a container restarted into the same cgroup. The agent passes the target as
// `--target-pid N --target-start-time T` (start time tells a recycled pid apart).
import { parseArgs } from 'node:util';
import { readProcess } from '../tagged-process.ts';

const { values } = parseArgs({
  options: { 'target-pid': { type: 'string' }, 'target-start-time': { type: 'string' } },
  allowPositionals: true,
  strict: false,
});
const targetPid = values['target-pid'] === undefined ? undefined : Number(values['target-pid']);
const targetStartTime = Number(values['target-start-time']);

/** How often the target is looked at, ms. */
export const TARGET_CHECK_MS = 100;

/** True when this worker has a target and it is no longer the same live process. */
export function targetGone(): boolean {
  return targetPid !== undefined && readProcess(targetPid)?.startTime !== targetStartTime;
}
