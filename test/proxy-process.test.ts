import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROXY_NODE_FLAGS } from '../proxy/node-flags.ts';

const MAIN = new URL('../cli/main.ts', import.meta.url).pathname;
let upstream: Server;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    // /slow answers after 800 ms: long enough to be in flight when SIGTERM arrives.
    const delay = req.url === '/slow' ? 800 : 0;
    setTimeout(() => res.end(`done ${req.url}`), delay);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  dir = mkdtempSync(join(tmpdir(), 'faultline-proxy-process-'));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
  rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  adminUrl: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function start(args: string[], nodeArgs: string[] = []): Promise<Started> {
  const child = spawn(process.execPath, [...nodeArgs, MAIN, 'proxy', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`proxy did not start in 10 s; stderr:\n${stderr}`)),
      10_000,
    );
    child.stdout!.on('data', (d) => {
      stdout += d;
      const m = /admin API on (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve({ child, adminUrl: m[1]!, exited, stderr: () => stderr });
      }
    });
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`proxy exited with ${code} before starting; stderr:\n${stderr}`));
    });
  });
}

describe('faultline proxy as a real process', () => {
  it('serves the admin API and traffic from a config file, and drains in-flight requests on SIGTERM', async () => {
    const config = join(dir, 'proxies.yaml');
    const up = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    writeFileSync(
      config,
      `proxies:\n  - name: web\n    listen: 127.0.0.1:0\n    upstream: ${up}\n    mode: http\n`,
    );
    const p = await start(['--admin', '127.0.0.1:0', '--config', config]);

    const health = await fetch(`${p.adminUrl}/faultline/health`).then((r) => r.json());
    expect(health).toMatchObject({ status: 'ok', proxies: 1, faults: 0 });
    const web = (await fetch(`${p.adminUrl}/faultline/proxies/web`).then((r) => r.json())) as {
      boundAddress: string;
    };
    const proxyUrl = `http://${web.boundAddress}`;
    expect(await fetch(`${proxyUrl}/hi`).then((r) => r.text())).toBe('done /hi');

    const fault = await fetch(`${p.adminUrl}/faultline/proxies/web/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'abort', params: { status: 418 }, match: { path: '/teapot' } }),
    });
    expect(fault.status).toBe(201);
    expect((await fetch(`${proxyUrl}/teapot`)).status).toBe(418);

    const slow = fetch(`${proxyUrl}/slow`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await new Promise((r) => setTimeout(r, 200));
    const signalledAt = Date.now();
    p.child.kill('SIGTERM');
    expect(await slow).toEqual({ status: 200, body: 'done /slow' });
    const exit = await p.exited;
    expect(exit, p.stderr()).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(5_000);
    expect(p.stderr()).toContain('draining');
  });

  it('restarts itself in place with the proxy V8 flags: same pid, flags on its command line', async () => {
    const p = await start(['--admin', '127.0.0.1:0']);
    // execve keeps the pid: the process the test spawned is the one now running with the flags.
    const argv = readFileSync(`/proc/${p.child.pid}/cmdline`, 'utf8').split('\0');
    expect(argv).toEqual(expect.arrayContaining([...PROXY_NODE_FLAGS, MAIN, 'proxy']));
    expect(argv.indexOf(PROXY_NODE_FLAGS[0])).toBeLessThan(argv.indexOf(MAIN));
    p.child.kill('SIGTERM');
    expect(await p.exited, p.stderr()).toEqual({ code: 0, signal: null });
  });

  it('keeps a V8 flag the user started Node with instead of its own value', async () => {
    const p = await start(['--admin', '127.0.0.1:0'], ['--min-semi-space-size=4']);
    const argv = readFileSync(`/proc/${p.child.pid}/cmdline`, 'utf8').split('\0');
    expect(argv).toContain('--min-semi-space-size=4');
    expect(argv).not.toContain(PROXY_NODE_FLAGS[0]);
    p.child.kill('SIGTERM');
    expect(await p.exited, p.stderr()).toEqual({ code: 0, signal: null });
  });

  it('exits 2 naming the file when the config file is invalid', async () => {
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ proxies: [{ name: 'x', listen: 'nowhere' }] }));
    const child = spawn(process.execPath, [MAIN, 'proxy', '--admin', '127.0.0.1:0', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(stderr).toContain(config);
    expect(stderr).toContain('INVALID_INPUT');
  });
});
