import { spawn } from 'node:child_process';
import { request } from 'undici';
import type { Rollback } from '../../protocol/experiment.ts';
import type { RollbackResult } from '../../protocol/verdict.ts';
import type { RunContext } from './run-context.ts';

/** Runs a command (argv, no shell); kills it by pid at its timeout. */
function runCommand(c: NonNullable<Rollback['command']>): Promise<RollbackResult['ok'] | string> {
  return new Promise((resolve) => {
    const child = spawn(c.run[0]!, c.run.slice(1), {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(c.cwd ? { cwd: c.cwd } : {}),
      ...(c.env ? { env: { ...process.env, ...c.env } } : {}),
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString();
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(child.pid, 'SIGKILL');
    }, c.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(err.message);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(true);
      else
        resolve(
          signal
            ? `killed by ${signal} (timeout ${c.timeoutMs}ms)`
            : `exit code ${code}${stderr ? `: ${stderr.trim()}` : ''}`,
        );
    });
  });
}

async function runHttp(h: NonNullable<Rollback['http']>): Promise<true | string> {
  try {
    const res = await request(h.url, {
      method: h.method.toUpperCase() as 'POST',
      headers: h.headers,
      ...(h.body === undefined ? {} : { body: h.body }),
      signal: AbortSignal.timeout(h.timeoutMs),
    });
    await res.body.dump();
    return res.statusCode < 400 ? true : `HTTP ${res.statusCode}`;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Runs the experiment's rollbacks in order after every fault was reverted. A failing rollback is
 * recorded and the next one still runs (remediation should not stop half way).
 */
export async function runRollbacks(ctx: RunContext): Promise<RollbackResult[]> {
  const results: RollbackResult[] = [];
  for (const rb of ctx.experiment.spec.rollbacks) {
    const outcome = rb.command
      ? await runCommand(rb.command)
      : rb.http
        ? await runHttp(rb.http)
        : 'nothing to run';
    const result: RollbackResult = {
      name: rb.name,
      ok: outcome === true,
      detail: outcome === true ? 'ok' : String(outcome),
    };
    results.push(result);
    await ctx.journal.append('rollback-run', { ...result }, { phase: ctx.state.phase });
  }
  return results;
}
