import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type SampleService, startSampleService } from './sample-service.ts';

const services: SampleService[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
});

async function start(opts: Parameters<typeof startSampleService>[0] = {}): Promise<SampleService> {
  const s = await startSampleService(opts);
  services.push(s);
  return s;
}

async function text(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

describe('sample service', () => {
  it('answers GET / with ok and GET /health with JSON', async () => {
    const s = await start();
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
    expect(await text(`${s.url}/`)).toMatchObject({ status: 200, body: 'ok\n' });
    const health = await text(`${s.url}/health`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
  });

  it('answers /checkout with a fresh order id after the base delay', async () => {
    const s = await start({ baseDelayMs: 60 });
    const t0 = performance.now();
    const a = JSON.parse((await text(`${s.url}/checkout`)).body);
    const elapsedMs = performance.now() - t0;
    const b = JSON.parse((await text(`${s.url}/checkout`)).body);
    expect(a.ok).toBe(true);
    expect(typeof a.orderId).toBe('string');
    expect(a.orderId).not.toBe(b.orderId);
    // Timers never fire early; the upper bound is generous for a busy 2-core machine.
    expect(elapsedMs).toBeGreaterThanOrEqual(59);
    expect(elapsedMs).toBeLessThan(2_000);
  });

  it('sends exactly n bytes from /bytes, including sizes above one chunk', async () => {
    const s = await start();
    for (const n of [0, 1, 65_536, 200_001]) {
      const res = await fetch(`${s.url}/bytes?n=${n}`);
      expect(res.headers.get('content-length')).toBe(String(n));
      expect((await res.arrayBuffer()).byteLength).toBe(n);
    }
    expect((await text(`${s.url}/bytes?n=-1`)).status).toBe(400);
    expect((await text(`${s.url}/bytes?n=abc`)).status).toBe(400);
  });

  it('echoes a POST body with its content type', async () => {
    const s = await start();
    const body = JSON.stringify({ hello: 'world', n: [1, 2, 3] });
    const res = await text(`${s.url}/echo`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(res).toEqual({ status: 200, body, type: 'application/json' });
  });

  it('answers /status/:code with that code and rejects unknown routes with an error body', async () => {
    const s = await start();
    expect((await text(`${s.url}/status/503`)).status).toBe(503);
    expect((await text(`${s.url}/status/201`)).status).toBe(201);
    expect((await text(`${s.url}/status/99`)).status).toBe(404);
    const missing = await text(`${s.url}/nope`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ code: 'NOT_FOUND', details: {} });
    expect((await text(`${s.url}/`, { method: 'DELETE' })).status).toBe(405);
  });

  it('keeps connections alive across requests', async () => {
    const s = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    try {
      for (let i = 0; i < 3; i++) {
        const port = await new Promise<number>((resolve, reject) => {
          const req = request(`${s.url}/`, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(req.socket?.localPort ?? -1));
          });
          req.on('error', reject);
          req.end();
        });
        ports.add(port);
      }
    } finally {
      agent.destroy();
    }
    expect(ports.size).toBe(1);
  });

  it('close() returns even while a keep-alive connection is open', async () => {
    const s = await startSampleService();
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve) => {
      request(`${s.url}/`, { agent }, (res) => res.resume().on('end', resolve)).end();
    });
    await s.close();
    agent.destroy();
    await expect(fetch(`${s.url}/`)).rejects.toThrow();
  });

  it('runs as a script on the given port and stops on SIGTERM', async () => {
    const probe = await start();
    const port = probe.port;
    await probe.close();
    services.splice(services.indexOf(probe), 1);
    const child = spawn(
      process.execPath,
      [new URL('./sample-service.ts', import.meta.url).pathname, '--port', String(port), '--delay-ms', '5'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    expect(line.toString()).toContain(`http://127.0.0.1:${port}`);
    expect(JSON.parse((await text(`http://127.0.0.1:${port}/checkout`)).body).ok).toBe(true);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});
