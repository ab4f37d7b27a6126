// Runs every benchmark script in bench/ (each `bench/*.ts` except this file), one after the
// other, each in its own Node process; each rewrites its own section of bench/RESULTS.md.
// Usage: npm run bench [-- --full]
// Without --full the memory soak runs for 1 minute instead of 10 (and says so in RESULTS.md).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { full: { type: 'boolean', default: false } } });
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const SELF = basename(fileURLToPath(import.meta.url));

/** Extra arguments per script; scripts not named here run with none. */
const ARGS: Record<string, string[]> = {
  'memory-soak.ts': args.full ? ['--minutes', '10'] : ['--minutes', '1', '--warmup', '0.25'],
};
/** Hard limit per script (ms), so one stuck bench cannot hold the run forever. */
const LIMIT_MS = (args.full ? 40 : 20) * 60_000;

// Only top-level scripts: fixtures (bench/fixtures/) and helpers (bench/support/) live in folders.
const scripts = readdirSync(BENCH_DIR, { withFileTypes: true })
  .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && e.name !== SELF)
  .map((e) => e.name)
  .sort();

console.log(`bench: running ${scripts.join(', ')}${args.full ? ' (full length)' : ''}`);
const outcomes: { script: string; code: number | null; seconds: number }[] = [];
for (const script of scripts) {
  const extra = ARGS[script] ?? [];
  console.log(`\n=== ${script} ${extra.join(' ')}`.trimEnd());
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(BENCH_DIR, script), ...extra], { stdio: 'inherit' });
  const timer = setTimeout(() => {
    console.error(
      `bench: ${script} still running after ${LIMIT_MS / 60_000} min; stopping it (pid ${child.pid})`,
    );
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  }, LIMIT_MS);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  outcomes.push({ script, code, seconds: Math.round((performance.now() - t0) / 1_000) });
}

console.log('\nbench summary:');
for (const o of outcomes) console.log(`  ${o.code === 0 ? 'ok    ' : 'FAILED'} ${o.script} (${o.seconds} s)`);
const failed = outcomes.filter((o) => o.code !== 0).length;
console.log(`${outcomes.length - failed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
