import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type ChildGroup, stopChild } from './processes.ts';

export interface NodeFixture {
  name: string;
  pid: number;
  port: number;
  /** What the fixture says it runs on (e.g. `startProxyServer`). */
  via: string;
  /** Sends one IPC message and waits for the next reply (`{op, ...}`); rejects on `{op:'error'}`. */
  request(msg: object): Promise<Record<string, unknown>>;
  /** Stops this fixture before the group does: SIGTERM by pid, SIGKILL after 3 s. */
  stop(): Promise<void>;
}

/** Starts `bench/fixtures/<script>` in its own Node process (pinned when `cpu` is given), waits for its ready message. */
export async function startNodeFixture(
  group: ChildGroup,
  script: string,
  args: readonly string[],
  opts: {
    name: string;
    cpu?: number;
    readyTimeoutMs?: number;
    nodeArgs?: readonly string[];
    /** Extra environment variables for the child (on top of ours). */
    env?: Record<string, string>;
  },
): Promise<NodeFixture> {
  const path = fileURLToPath(new URL(`../fixtures/${script}`, import.meta.url));
  // --no-deprecation: http-proxy uses util._extend, and its warning is noise in bench output.
  const child: ChildProcess = group.spawn(
    process.execPath,
    ['--no-deprecation', ...(opts.nodeArgs ?? []), path, ...args],
    {
      cpu: opts.cpu,
      name: opts.name,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: opts.env ? { ...process.env, ...opts.env } : undefined,
    },
  );
  const readyTimeoutMs = opts.readyTimeoutMs ?? 15_000;
  const ready = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`${opts.name} exited with code ${code} before it was ready`);
    }),
    new Promise((_, reject) =>
      setTimeout(
        () => reject(new Error(`${opts.name} not ready after ${readyTimeoutMs} ms`)),
        readyTimeoutMs,
      ).unref(),
    ),
  ])) as [{ op: string; port: number; via: string }];
  const [msg] = ready;
  return {
    name: opts.name,
    pid: child.pid!,
    port: msg.port,
    via: msg.via,
    async request(out) {
      const reply = once(child, 'message');
      child.send(out);
      const [answer] = (await reply) as [Record<string, unknown>];
      if (answer.op === 'error') throw new Error(`${opts.name}: ${String(answer.message)}`);
      return answer;
    },
    stop: () => stopChild(child),
  };
}
