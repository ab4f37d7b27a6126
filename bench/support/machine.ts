import { cpus, loadavg } from 'node:os';
import { relative } from 'node:path';

/** Facts about the machine and the invocation, printed with every result. */
export interface RunFacts {
  /** ISO date-time (UTC) the run started. */
  date: string;
  nproc: number;
  cpuModel: string;
  node: string;
  /** 1-minute load average when the run started: high values mean other work shared the cores. */
  load1: number;
  /** The exact command, relative to the repo root, to reproduce the run. */
  command: string;
}

export function runFacts(repoRoot: string): RunFacts {
  const script = relative(repoRoot, process.argv[1] ?? '');
  const args = process.argv.slice(2).map((a) => (/^[\w./:=-]+$/.test(a) ? a : JSON.stringify(a)));
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    load1: Math.round(loadavg()[0]! * 100) / 100,
    command: ['npx node', script, ...args].join(' '),
  };
}

/** The Markdown lines every section starts with. */
export function factsMarkdown(f: RunFacts, notes: readonly string[] = []): string {
  return [
    `- Run: ${f.date} · \`${f.command}\``,
    `- Machine: ${f.nproc} cores (${f.cpuModel}), Node ${f.node}, load average ${f.load1} at start`,
    ...notes.map((n) => `- ${n}`),
  ].join('\n');
}
