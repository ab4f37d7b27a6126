import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** Test support: `faultline agent ...` as a real child process. */

const CLI = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

export interface AgentChild {
  child: ChildProcess;
  pid: number;
  /** Everything the agent wrote to stderr so far. */
  log(): string;
  /** Resolves the first stderr line matching `re` (including lines already written). */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves the exit code / signal. */
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/** Runs `node cli/main.ts <args>` on this Node. */
export function spawnCli(args: string[]): AgentChild {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters = new Set<() => void>();
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => {
    text += c;
    for (const w of waiters) w();
  });
  child.stdout!.resume();
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return {
    child,
    pid: child.pid!,
    log: () => text,
    exited,
    waitForLine(re, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = text.split('\n').find((l) => re.test(l));
          if (line === undefined) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(line);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no stderr line matching ${re} within ${timeoutMs} ms; stderr:\n${text}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
  };
}

/** SIGKILLs the child if it still runs and waits for it to go. */
export async function stopChild(agent: AgentChild | undefined): Promise<void> {
  if (!agent) return;
  const { child } = agent;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await agent.exited;
  }
}

/** Starts `faultline agent` against a hub with token `t`, as the cross-process tests do. */
export function spawnAgent(opts: { controller: string; agentId: string; stateDir: string }): AgentChild {
  return spawnCli([
    'agent',
    '--controller',
    opts.controller,
    '--token',
    't',
    '--id',
    opts.agentId,
    '--state-dir',
    opts.stateDir,
  ]);
}
