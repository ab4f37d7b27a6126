import { spawn } from 'node:child_process';
import type { z } from 'zod';
import type { CommandProbe as CommandProbeSpec } from '../../../protocol/experiment-probes.ts';
import { describeError, elapsedMs, MAX_CAPTURE_BYTES, type Probe, type ProbeSample } from './probe.ts';

/**
 * Runs a command (argv, no shell) and records exit code and stdout. It runs in its own process
 * group so a timeout or abort can kill it and anything it started (SIGKILL to -pid).
 * `ok` means it ran to its own end; a non-zero exit is for the tolerance to judge.
 */
export function createCommandProbe(name: string, spec: z.infer<typeof CommandProbeSpec>): Probe {
  const [file, ...args] = spec.run as [string, ...string[]];
  return {
    name,
    kind: 'command',
    run(signal) {
      const at = Date.now();
      const start = process.hrtime.bigint();
      return new Promise<ProbeSample>((resolve) => {
        let done = false;
        let stopped: string | undefined;
        const out: Buffer[] = [];
        let outSize = 0;
        const child = spawn(file, args, {
          shell: false,
          detached: true,
          cwd: spec.cwd,
          env: spec.env ? { ...process.env, ...spec.env } : process.env,
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        const kill = (why: string) => {
          stopped ??= why;
          if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        };
        const onAbort = () => kill('aborted');
        const timer = setTimeout(() => kill(`killed after ${spec.timeoutMs} ms timeout`), spec.timeoutMs);
        const finish = (sample: Omit<ProbeSample, 'probe' | 'kind' | 'at'>) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          child.stdout?.destroy();
          resolve({ probe: name, kind: 'command', at, latencyMs: elapsedMs(start), ...sample });
        };
        if (signal.aborted) kill('aborted');
        else signal.addEventListener('abort', onAbort, { once: true });
        child.stdout.on('data', (chunk: Buffer) => {
          if (outSize < MAX_CAPTURE_BYTES) out.push(chunk);
          outSize += chunk.length;
        });
        child.once('error', (err) =>
          finish({ ok: false, error: `cannot run ${file}: ${describeError(err)}` }),
        );
        // Finish on `exit` plus the end of stdout, but wait at most 200 ms for stdout: a grandchild
        // that keeps the pipe open must not keep the probe waiting.
        let exitCode: number | null | undefined;
        let stdoutEnded = false;
        let grace: NodeJS.Timeout | undefined;
        const settle = () => {
          if (exitCode === undefined) return;
          clearTimeout(grace);
          const stdout = Buffer.concat(out).subarray(0, MAX_CAPTURE_BYTES).toString('utf8');
          if (stopped !== undefined) finish({ ok: false, error: stopped, exitCode, stdout });
          else finish({ ok: true, exitCode, stdout });
        };
        child.stdout.once('end', () => {
          stdoutEnded = true;
          settle();
        });
        child.once('exit', (code) => {
          exitCode = code;
          if (stdoutEnded) settle();
          else grace = setTimeout(settle, 200);
        });
      });
    },
  };
}
