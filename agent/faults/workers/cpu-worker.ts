// Burns --percent of one core in ~10 ms slices: busy-loops while this process's CPU time is below
// the asked share of wall time since start, sleeps a slice otherwise. Measuring our own CPU time
// (not wall time spent spinning) keeps the duty cycle right when the machine is busy.
// Started by cpu-stress with the argv marker `--faultline-fault=<id>`; killed on revert.
import { parseArgs } from 'node:util';
import { waitForGo } from './start-gate.ts';
import { TARGET_CHECK_MS, targetGone } from './target-watch.ts';

const { values } = parseArgs({
  options: { percent: { type: 'string' } },
  allowPositionals: true,
  strict: false,
});
const share = Number(values.percent) / 100;
const SLICE_MS = 10;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
// A sliding start (reset every 5 s) so a stall long ago is not paid back with a long burst.
const WINDOW_MS = 5_000;
// Placed in the target's cgroups first (see start-gate.ts); only then does the work begin.
await waitForGo();
let windowStart = performance.now();
let cpuAtStart = process.cpuUsage();
// The loop never yields to the event loop, so the target is looked at from inside it.
let targetCheckedAt = windowStart;

for (;;) {
  const now = performance.now();
  if (now - targetCheckedAt > TARGET_CHECK_MS) {
    targetCheckedAt = now;
    if (targetGone()) process.exit(0);
  }
  if (now - windowStart > WINDOW_MS) {
    windowStart = now;
    cpuAtStart = process.cpuUsage();
  }
  const used = process.cpuUsage(cpuAtStart);
  const cpuMs = (used.user + used.system) / 1000;
  if (cpuMs < share * (now - windowStart)) {
    const until = now + SLICE_MS;
    while (performance.now() < until) {
      // spin
    }
  } else {
    Atomics.wait(sleeper, 0, 0, SLICE_MS);
  }
}
