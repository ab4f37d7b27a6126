import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** Entry of the `faultline` command, run with this process's Node (24). */
export const CLI = join(import.meta.dirname, '..', '..', 'cli', 'main.ts');

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `faultline <args>` as a real child process and collects its output. */
export function startCli(args: string[]): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  const done = new Promise<Finished>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs `faultline <args>` to its end; kills it (by its pid) and fails after `timeoutMs`. */
export async function runCli(args: string[], timeoutMs = 20_000): Promise<Finished> {
  const { child, done } = startCli(args);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
      reject(new Error(`faultline ${args[0]} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
