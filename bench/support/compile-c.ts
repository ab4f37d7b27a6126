import { execFileSync } from 'node:child_process';
import { basename, join } from 'node:path';

/** Compiles one C file of this folder into `dir` with `cc -O2 -Wall`; returns the binary's path. */
export function compileC(source: string, dir: string): string {
  const bin = join(dir, basename(source, '.c'));
  try {
    execFileSync('cc', ['-O2', '-Wall', '-o', bin, source], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(
      `cannot compile ${source} with cc (is gcc installed?): ${stderr || (err as Error).message}`,
    );
  }
  return bin;
}
