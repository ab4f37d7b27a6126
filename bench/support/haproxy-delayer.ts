import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Direction } from '../../protocol/proxy.ts';
import type { PeerContext, StartedPeer } from './peers.ts';
import { freePort, stopChild, waitForPort } from './processes.ts';

const LUA = fileURLToPath(new URL('../fixtures/haproxy-delay.lua', import.meta.url));

/** HAProxy in `mode http` with a Lua delay per direction, switched at run time. */
export interface HaproxyDelayer extends StartedPeer {
  /** Holds every request (upstream) or response (downstream) `ms` before passing it on; 0 = none. */
  setDelay(direction: Direction, ms: number): Promise<void>;
  /** Both directions back to no delay. */
  reset(): Promise<void>;
  /** Stops this HAProxy before the group does: SIGTERM by pid, SIGKILL after 3 s. */
  stop(): Promise<void>;
}

/** Sends one command to HAProxy's stats socket; resolves with its answer (HAProxy closes after it). */
function cli(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socketPath);
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      out += d;
    });
    s.once('error', reject);
    s.once('end', () => resolve(out.trim()));
    s.end(`${command}\n`);
  });
}

/**
 * HAProxy (one thread, keep-alive both sides, like startHaproxy's `http` peer) that delays with
 * bench/fixtures/haproxy-delay.lua: the latency bench's reference delayer outside Node. No `maxconn`
 * on the server: a held response keeps its server connection (HAProxy forwards the response only
 * after the action), so a limit there would queue requests behind the delay instead of delaying them.
 */
export async function startHaproxyDelayer(ctx: PeerContext, upstreamPort: number): Promise<HaproxyDelayer> {
  const name = 'haproxy-delayer';
  const port = await freePort();
  const d = join(ctx.dir, name);
  mkdirSync(d, { recursive: true });
  const socketPath = join(d, 'cli.sock');
  const conf = join(d, 'haproxy.cfg');
  writeFileSync(
    conf,
    `global
  nbthread 1
  # Each connection needs two fds; 9000 keeps HAProxy under the usual 20000 fd limit.
  maxconn 9000
  lua-load ${LUA}
  stats socket ${socketPath} level admin
  set-var proc.delay_upstream int(0)
  set-var proc.delay_downstream int(0)
defaults
  mode http
  timeout connect 5s
  timeout client 120s
  timeout server 120s
  option http-keep-alive
  http-reuse always
frontend fe
  bind 127.0.0.1:${port}
  http-request lua.delay_upstream
  http-response lua.delay_downstream
  default_backend be
backend be
  server s1 127.0.0.1:${upstreamPort}
`,
  );
  // -db: stay in the foreground, so the spawned pid is the proxy itself.
  const child = ctx.group.spawn('haproxy', ['-db', '-f', conf], { cpu: ctx.cpu, name });
  await waitForPort(port);
  const setDelay = async (direction: Direction, ms: number): Promise<void> => {
    if (!Number.isInteger(ms) || ms < 0) throw new Error(`delay must be whole ms ≥ 0, got ${ms}`);
    // `set var` is one of HAProxy 2.6's experimental CLI commands; it answers nothing on success.
    const answer = await cli(socketPath, `experimental-mode on; set var proc.delay_${direction} int(${ms})`);
    if (answer) throw new Error(`HAProxy refused the delay: ${answer}`);
  };
  return {
    name,
    port,
    pid: child.pid!,
    setDelay,
    async reset() {
      await setDelay('upstream', 0);
      await setDelay('downstream', 0);
    },
    stop: () => stopChild(child),
  };
}
