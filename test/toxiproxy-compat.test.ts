import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { type ICreateToxicBody, Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyServer, startProxyServer } from '../proxy/proxy-server.ts';

let echo: Server;
let upstream: string;
let server: ProxyServer;
let toxiproxy: Toxiproxy;

beforeAll(async () => {
  echo = createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  upstream = `127.0.0.1:${(echo.address() as AddressInfo).port}`;
  server = await startProxyServer({ admin: '127.0.0.1:0' });
  toxiproxy = new Toxiproxy(server.adminUrl);
});

afterAll(async () => {
  await server?.close(0);
  await new Promise((r) => echo.close(r));
});

/** Opens a connection through the proxy, sends one line and times until it is echoed back, ms. */
async function roundTripMs(listen: string): Promise<number> {
  const [host, port] = [
    listen.slice(0, listen.lastIndexOf(':')),
    Number(listen.slice(listen.lastIndexOf(':') + 1)),
  ];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => s.write('ping\n'));
    s.setTimeout(5_000, () => s.destroy(new Error('no echo in 5 s')));
    s.once('data', () => {
      resolve(performance.now() - t0);
      s.destroy();
    });
    s.once('error', reject);
  });
}

function latency(name: string, ms: number): ICreateToxicBody<unknown> {
  return {
    name,
    type: 'latency',
    stream: 'downstream',
    toxicity: 1,
    attributes: { latency: ms, jitter: 0 },
  } as never;
}

describe('Toxiproxy-compatible API with the unmodified toxiproxy-node-client', () => {
  it('reports a version', async () => {
    expect(JSON.parse(await toxiproxy.getVersion())).toEqual({ version: expect.any(String) });
  });

  it('creates a proxy, delays real TCP traffic with a latency toxic, updates and removes it', async () => {
    const proxy = await toxiproxy.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream });
    expect(proxy.listen).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect(proxy.enabled).toBe(true);
    expect(await roundTripMs(proxy.listen)).toBeLessThan(250);

    const toxic = await proxy.addToxic(latency('slow', 300));
    expect(toxic.toJson()).toEqual({
      name: 'slow',
      type: 'latency',
      stream: 'downstream',
      toxicity: 1,
      attributes: { latency: 300, jitter: 0 },
    });
    expect(await roundTripMs(proxy.listen)).toBeGreaterThanOrEqual(295);

    const fetched = await proxy.getToxic('slow');
    expect(fetched.attributes).toEqual({ latency: 300, jitter: 0 });
    const updated = await toxic.update({ attributes: { latency: 500 } } as never);
    expect(updated.attributes).toEqual({ latency: 500, jitter: 0 });
    expect(await roundTripMs(proxy.listen)).toBeGreaterThanOrEqual(495);

    // The toxic is a Faultline fault with no lease.
    const faults = server.manager.faults.list('echo');
    expect(faults).toMatchObject([
      { id: 'echo:slow', type: 'latency', params: { delayMs: 500 }, expiresAt: null },
    ]);

    await updated.remove();
    expect(server.manager.faults.list('echo')).toEqual([]);
    expect(await roundTripMs(proxy.listen)).toBeLessThan(250);
  });

  it('lists proxies keyed by name with their toxics, and answers errors as {error, status}', async () => {
    const proxy = await toxiproxy.get('echo');
    await proxy.addToxic({ type: 'bandwidth', attributes: { rate: 1000 } } as never);
    const all = (await fetch(`${server.adminUrl}/proxies`).then((r) => r.json())) as Record<
      string,
      { toxics: unknown[] }
    >;
    expect(all.echo).toMatchObject({ name: 'echo', upstream, enabled: true });
    expect(all.echo!.toxics).toEqual([
      {
        name: 'bandwidth_downstream',
        type: 'bandwidth',
        stream: 'downstream',
        toxicity: 1,
        attributes: { rate: 1000 },
      },
    ]);

    await expect(toxiproxy.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream })).rejects.toThrow(
      /409/,
    );
    const dup = await fetch(`${server.adminUrl}/proxies`, {
      method: 'POST',
      body: JSON.stringify({ name: 'echo', upstream }),
    });
    expect(dup.status).toBe(409);
    expect(await dup.json()).toEqual({ error: 'proxy already exists', status: 409 });
    const missing = await fetch(`${server.adminUrl}/proxies/nope/toxics`);
    expect(await missing.json()).toEqual({ error: 'proxy not found', status: 404 });
    const badType = await fetch(`${server.adminUrl}/proxies/echo/toxics`, {
      method: 'POST',
      body: JSON.stringify({ type: 'gremlin' }),
    });
    expect(await badType.json()).toEqual({ error: 'invalid toxic type', status: 400 });
    const dupToxic = await fetch(`${server.adminUrl}/proxies/echo/toxics`, {
      method: 'POST',
      body: JSON.stringify({ type: 'bandwidth' }),
    });
    expect(await dupToxic.json()).toEqual({ error: 'toxic already exists', status: 409 });
    const badJson = await fetch(`${server.adminUrl}/proxies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({
      error: expect.stringMatching(/^bad request body/),
      status: 400,
    });
    const noToxic = await fetch(`${server.adminUrl}/proxies/echo/toxics/ghost`, { method: 'DELETE' });
    expect(await noToxic.json()).toEqual({ error: 'toxic not found', status: 404 });
  });

  it('shows a Faultline fault on a TCP proxy as a toxic named after its id', async () => {
    server.manager.faults.apply('echo', {
      id: 'echo:manual',
      type: 'latency',
      params: { delayMs: 5 },
      percent: 50,
    });
    const toxic = await fetch(`${server.adminUrl}/proxies/echo/toxics/manual`).then((r) => r.json());
    expect(toxic).toEqual({
      name: 'manual',
      type: 'latency',
      stream: 'downstream',
      toxicity: 0.5,
      attributes: { latency: 5, jitter: 0 },
    });
    const del = await fetch(`${server.adminUrl}/proxies/echo/toxics/manual`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect(server.manager.faults.get('echo:manual')).toBeUndefined();
  });

  it('resets: removes every toxic and re-enables disabled proxies', async () => {
    const proxy = await toxiproxy.get('echo');
    await proxy.addToxic(latency('again', 500));
    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream });
    expect(disabled.enabled).toBe(false);
    await toxiproxy.reset();
    const after = await toxiproxy.get('echo');
    expect(after.enabled).toBe(true);
    const raw = await fetch(`${server.adminUrl}/proxies/echo/toxics`).then((r) => r.json());
    expect(raw).toEqual([]);
    expect(await roundTripMs(after.listen)).toBeLessThan(250);
  });

  it('populates several proxies at once, keeping one whose addresses did not change', async () => {
    const before = await toxiproxy.get('echo');
    const proxies = await toxiproxy.populate([
      { name: 'echo', listen: '127.0.0.1:0', upstream },
      { name: 'p2', listen: '127.0.0.1:0', upstream },
    ]);
    expect(Object.keys(proxies).sort()).toEqual(['echo', 'p2']);
    expect(proxies.echo!.listen).toBe(before.listen);
    expect(await roundTripMs(proxies.p2!.listen)).toBeLessThan(250);
    const bad = await fetch(`${server.adminUrl}/populate`, {
      method: 'POST',
      body: JSON.stringify([{ name: 'x' }]),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'missing required field: upstream at proxy 1', status: 400 });
  });

  it('deletes a proxy', async () => {
    const p2 = await toxiproxy.get('p2');
    await p2.remove();
    await expect(toxiproxy.get('p2')).rejects.toThrow(/404/);
    expect(Object.keys(await toxiproxy.getAll())).toEqual(['echo']);
  });
});

/** Connects to a proxy's listen address and collects what comes back, as text. */
async function openClient(listen: string): Promise<{ socket: Socket; received: () => string }> {
  const i = listen.lastIndexOf(':');
  const socket = connect({ host: listen.slice(0, i), port: Number(listen.slice(i + 1)) });
  socket.on('error', () => {});
  let text = '';
  socket.on('data', (d: Buffer) => {
    text += d.toString();
  });
  await new Promise((r) => socket.once('connect', r));
  return { socket, received: () => text };
}

/** Resolves true once `check` holds, false after `ms`. */
async function eventually(check: () => boolean, ms = 2_000): Promise<boolean> {
  for (const end = performance.now() + ms; performance.now() < end; await delay(10)) if (check()) return true;
  return check();
}

describe('Toxiproxy-compatible API: toxics that must behave as in Toxiproxy', () => {
  it('refuses a toxic on an HTTP-mode proxy with a 400, so none is applied that it could not list or remove', async () => {
    await server.manager.add({ name: 'web', listen: '127.0.0.1:0', upstream, mode: 'http' });
    try {
      const web = await toxiproxy.get('web');
      await expect(web.addToxic(latency('slow', 100))).rejects.toThrow(/400/);
      const raw = await fetch(`${server.adminUrl}/proxies/web/toxics`, {
        method: 'POST',
        body: JSON.stringify({ type: 'latency', attributes: { latency: 100 } }),
      });
      expect(raw.status).toBe(400);
      expect(await raw.json()).toEqual({
        error: 'proxy web is in http mode; toxics act only on tcp-mode proxies',
        status: 400,
      });
      expect(server.manager.faults.list('web')).toEqual([]);
    } finally {
      await server.manager.remove('web');
    }
  });

  it('takes bandwidth rate 0, or none, as a cut: no byte passes until the toxics are removed, then the held bytes do', async () => {
    const proxy = await toxiproxy.createProxy({ name: 'cut', listen: '127.0.0.1:0', upstream });
    const client = await openClient(proxy.listen);
    try {
      const down = await proxy.addToxic({
        name: 'CUT_CONNECTION_DOWNSTREAM',
        type: 'bandwidth',
        stream: 'downstream',
        toxicity: 1,
        attributes: { rate: 0 },
      } as never);
      const up = await proxy.addToxic({ type: 'bandwidth', stream: 'upstream' } as never);
      const listed = await fetch(`${server.adminUrl}/proxies/cut/toxics`).then((r) => r.json());
      expect(listed).toEqual([
        {
          name: 'CUT_CONNECTION_DOWNSTREAM',
          type: 'bandwidth',
          stream: 'downstream',
          toxicity: 1,
          attributes: { rate: 0 },
        },
        {
          name: 'bandwidth_upstream',
          type: 'bandwidth',
          stream: 'upstream',
          toxicity: 1,
          attributes: { rate: 0 },
        },
      ]);

      client.socket.write('ping\n');
      await delay(300);
      expect(client.received()).toBe('');

      await down.remove();
      await up.remove();
      expect(await eventually(() => client.received() === 'ping\n')).toBe(true);
      expect(await fetch(`${server.adminUrl}/proxies/cut/toxics`).then((r) => r.json())).toEqual([]);
      expect(server.manager.faults.list('cut')).toEqual([]);
    } finally {
      client.socket.destroy();
      await fetch(`${server.adminUrl}/proxies/cut`, { method: 'DELETE' });
    }
  });
});
