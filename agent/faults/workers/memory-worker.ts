// Grows this process's memory at --rate-mb-per-sec up to --max-mb (rate 0: all at once), touching
// one byte per 4 KiB page so RSS really grows (an untouched Buffer only reserves address space).
// Started by memory-leak and memory-hog with the argv marker `--faultline-fault=<id>`; killed on revert.
import { parseArgs } from 'node:util';
import { waitForGo } from './start-gate.ts';
import { TARGET_CHECK_MS, targetGone } from './target-watch.ts';

const { values } = parseArgs({
  options: {
    'rate-mb-per-sec': { type: 'string' },
    'max-mb': { type: 'string' },
  },
  allowPositionals: true,
  strict: false,
});
const rateMbPerSec = Number(values['rate-mb-per-sec']);
const maxMb = Number(values['max-mb']);
const PAGE_BYTES = 4096;
const MB = 1024 * 1024;
const TICK_MS = 50;
const held: Buffer[] = [];
let allocatedMb = 0;

function grow(toMb: number): void {
  while (allocatedMb < toMb) {
    const mb = Math.min(1, toMb - allocatedMb);
    const buf = Buffer.allocUnsafeSlow(Math.ceil(mb * MB));
    for (let i = 0; i < buf.length; i += PAGE_BYTES) buf[i] = 1;
    held.push(buf);
    allocatedMb += mb;
  }
}

// Placed in the target's cgroups first (see start-gate.ts); only then does the work begin.
await waitForGo();
const start = performance.now();
const tick = () => {
  const target =
    rateMbPerSec > 0 ? Math.min(maxMb, (rateMbPerSec * (performance.now() - start)) / 1000) : maxMb;
  grow(target);
};
tick();
// Keeps running after maxMb is reached so the memory stays held until we are killed (or the target ends).
setInterval(tick, TICK_MS);
setInterval(() => {
  if (targetGone()) process.exit(0);
}, TARGET_CHECK_MS);
