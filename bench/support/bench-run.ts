import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { factsMarkdown, type RunFacts, runFacts } from './machine.ts';
import { ChildGroup, canPin } from './processes.ts';
import { writeResultsSection } from './results-file.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** CPUs the bench pins to; undefined members = not pinned. */
export interface CpuLayout {
  /** Load generator and upstream server. */
  load: number | undefined;
  /** The proxy under test (each peer in turn). */
  proxy: number | undefined;
  /** One line for RESULTS.md. */
  describe: string;
}

/** Everything one bench run owns: its children, its temp dir, its facts and CPU layout. */
export interface BenchRun {
  name: string;
  group: ChildGroup;
  dir: string;
  facts: RunFacts;
  cpus: CpuLayout;
  /** Kills every child (by pid) and removes the temp dir. */
  stop(): Promise<void>;
  /** Prints `body` and rewrites this bench's section of RESULTS.md (unless `write` is false). */
  report(body: string, notes: readonly string[], write: boolean): void;
}

function layout(pin: boolean, unpinned: string | undefined): CpuLayout {
  if (!pin) return { load: undefined, proxy: undefined, describe: unpinned ?? 'Not pinned (--no-pin).' };
  if (!canPin()) return { load: undefined, proxy: undefined, describe: 'Not pinned: taskset not available.' };
  if (cpus().length < 2) return { load: undefined, proxy: undefined, describe: 'Not pinned: one CPU.' };
  return {
    load: 0,
    proxy: 1,
    describe:
      'Pinned with taskset: load generator and upstream on CPU 0, the proxy under test on CPU 1 ' +
      '(the same layout for every peer, so ratios compare like with like).',
  };
}

/**
 * @param opts.pin pin the load generator and the proxy to CPUs 0 and 1
 * @param opts.unpinned what RESULTS.md says about CPUs when not pinned; default "Not pinned (--no-pin)."
 */
export function startBenchRun(name: string, opts: { pin: boolean; unpinned?: string }): BenchRun {
  const group = new ChildGroup();
  const dir = mkdtempSync(join(tmpdir(), `faultline-bench-${name}-`));
  group.onStop(() => rmSync(dir, { recursive: true, force: true }));
  const facts = runFacts(REPO_ROOT);
  const cpuLayout = layout(opts.pin, opts.unpinned);
  return {
    name,
    group,
    dir,
    facts,
    cpus: cpuLayout,
    stop: () => group.stopAll(),
    report(body, notes, write) {
      const busy =
        facts.load1 > 0.5
          ? [`Load average ${facts.load1} at start: other work shared the cores, so these figures are noisy.`]
          : [];
      const section = `## ${name}\n\n${factsMarkdown(facts, [cpuLayout.describe, ...busy, ...notes])}\n\n${body.trim()}\n`;
      console.log(`\n${section}`);
      if (write) {
        writeResultsSection(name, section);
        console.log(`(bench/RESULTS.md section "${name}" rewritten)`);
      }
    },
  };
}
