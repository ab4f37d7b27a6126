import { missingNodeFlags } from '../proxy/node-flags.ts';

/**
 * Replaces this process with the same command run with `flags` added, unless it already runs with
 * them (or the user set them otherwise). `execve` keeps the pid, stdio and environment, so a
 * supervisor, a test or `kill PID` sees one process throughout. Returns, and the command goes on
 * without the flags, where there is no `execve` (Windows) or it fails.
 */
export function restartWithNodeFlags(flags: readonly string[]): void {
  const missing = missingNodeFlags(flags, process.execArgv);
  if (missing.length === 0 || typeof process.execve !== 'function') return;
  try {
    process.execve(process.execPath, [
      process.execPath,
      ...missing,
      ...process.execArgv,
      ...process.argv.slice(1),
    ]);
  } catch (err) {
    console.error(
      `faultline: could not restart with ${missing.join(' ')} (${(err as Error).message}); going on without`,
    );
  }
}
