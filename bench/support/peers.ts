import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildGroup } from './processes.ts';
import { freePort, waitForPort } from './processes.ts';

/** Where a peer writes its config and logs, and which CPU it is pinned to. */
export interface PeerContext {
  group: ChildGroup;
  /** A temp dir owned by this bench run. */
  dir: string;
  cpu?: number;
}

export interface StartedPeer {
  name: string;
  port: number;
  pid: number;
}

/** Body of the static file nginx serves as the upstream (bytes: 128, like a small JSON answer). */
export const STATIC_BODY = `${'x'.repeat(127)}\n`;

function nginxConfig(ctx: PeerContext, name: string, port: number, location: string, extraHttp = ''): string {
  const d = join(ctx.dir, name);
  mkdirSync(join(d, 'tmp'), { recursive: true });
  // master_process off: the pid we spawn is the only nginx process, so we can stop it by pid.
  // One worker, like the single-threaded peers; keep-alive limits raised so no peer reconnects
  // mid-run (nginx 1.22 closes a connection after 1000 requests by default).
  return `daemon off;
master_process off;
worker_processes 1;
# Room for the latency bench's kept connections: a paced client's straight to it, and a TCP-mode
# proxy's (one upstream connection per client connection) for each proxy, up to 6,000 each.
worker_rlimit_nofile 65536;
pid ${d}/nginx.pid;
error_log ${d}/error.log warn;
events { worker_connections 32768; }
http {
  access_log off;
  default_type text/plain;
  client_body_temp_path ${d}/tmp/body;
  proxy_temp_path ${d}/tmp/proxy;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  # A connection that has not sent its first request yet is closed after client_header_timeout
  # (default 60 s). A paced client opens all its connections at once and, reusing the most recently
  # freed first, may not use the last ones for minutes; a TCP-mode proxy dials one upstream
  # connection per client connection and passes nginx's close on. So at 60 s nginx closed ~1,000 of
  # 1,923 unused pairs, and the client re-dialled them mid-run when a fault or a hiccup needed them.
  client_header_timeout 600s;
  ${extraHttp}
  server {
    listen 127.0.0.1:${port} backlog=4096;
    ${location}
  }
}
`;
}

async function startNginx(
  ctx: PeerContext,
  name: string,
  config: (port: number) => string,
): Promise<StartedPeer> {
  const port = await freePort();
  const d = join(ctx.dir, name);
  mkdirSync(d, { recursive: true });
  const conf = join(d, 'nginx.conf');
  writeFileSync(conf, config(port));
  const child = ctx.group.spawn('nginx', ['-p', d, '-c', conf, '-e', join(d, 'error.log')], {
    cpu: ctx.cpu,
    name,
  });
  await waitForPort(port);
  return { name, port, pid: child.pid! };
}

/** nginx serving STATIC_BODY at every path: the steady upstream of the throughput benches. */
export function startNginxStatic(ctx: PeerContext): Promise<StartedPeer> {
  const www = join(ctx.dir, 'www');
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, 'index.html'), STATIC_BODY);
  return startNginx(ctx, 'nginx-upstream', (port) =>
    nginxConfig(ctx, 'nginx-upstream', port, `location / { root ${www}; try_files /index.html =404; }`),
  );
}

/** nginx as a reverse proxy with a keep-alive pool to the upstream. */
export function startNginxProxy(ctx: PeerContext, upstreamPort: number): Promise<StartedPeer> {
  return startNginx(ctx, 'nginx-proxy', (port) =>
    nginxConfig(
      ctx,
      'nginx-proxy',
      port,
      'location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }',
      `upstream up { server 127.0.0.1:${upstreamPort}; keepalive 128; keepalive_requests 100000000; }`,
    ),
  );
}

/** HAProxy in `mode http` (keep-alive both sides, connection reuse) or `mode tcp`, one thread. */
export async function startHaproxy(
  ctx: PeerContext,
  mode: 'http' | 'tcp',
  upstreamPort: number,
): Promise<StartedPeer> {
  const name = `haproxy-${mode}`;
  const port = await freePort();
  const d = join(ctx.dir, name);
  mkdirSync(d, { recursive: true });
  const httpOnly = mode === 'http' ? '  option http-keep-alive\n  http-reuse always\n' : '';
  const conf = join(d, 'haproxy.cfg');
  writeFileSync(
    conf,
    `global
  nbthread 1
  # Each connection needs two fds; 8000 keeps HAProxy under the usual 20000 fd limit.
  maxconn 8000
defaults
  mode ${mode}
  timeout connect 5s
  timeout client 120s
  timeout server 120s
${httpOnly}frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  server s1 127.0.0.1:${upstreamPort}
`,
  );
  // -db: stay in the foreground, so the spawned pid is the proxy itself.
  const child = ctx.group.spawn('haproxy', ['-db', '-f', conf], { cpu: ctx.cpu, name });
  await waitForPort(port);
  return { name, port, pid: child.pid! };
}
