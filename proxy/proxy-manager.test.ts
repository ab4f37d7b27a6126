import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isFaultlineError } from '../protocol/errors.ts';
import { ProxyManager } from './proxy-manager.ts';

let manager: ProxyManager;
const servers: net.Server[] = [];
afterEach(async () => {
  await manager.close(0);
  for (const s of servers.splice(0)) {
    if (s instanceof http.Server) s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** Listens on 127.0.0.1:0, closed after the test; resolves with its `host:port`. */
async function listening<S extends net.Server>(server: S): Promise<string> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

describe('ProxyManager', () => {
  it('changes the upstream of an http proxy without touching its mode, labels or other proxies', async () => {
    manager = new ProxyManager();
    await manager.add({
      name: 'web',
      listen: '127.0.0.1:0',
      upstream: '127.0.0.1:1',
      mode: 'http',
      labels: { a: 'b' },
    });
    await manager.add({ name: 'db', listen: '127.0.0.1:0', upstream: '127.0.0.1:2' });
    const dbBefore = manager.get('db').boundAddress;
    const webBefore = manager.get('web').boundAddress;
    const web = await manager.update('web', { upstream: '127.0.0.1:3' });
    expect(web).toMatchObject({ mode: 'http', labels: { a: 'b' }, enabled: true, upstream: '127.0.0.1:3' });
    expect(web.boundAddress).toBe(webBefore);
    expect(manager.get('db').boundAddress).toBe(dbBefore);
  });

  it('reverts the faults of a proxy it removes, and says NOT_FOUND for a name it does not have', async () => {
    manager = new ProxyManager();
    await manager.add({ name: 'db', listen: '127.0.0.1:0', upstream: '127.0.0.1:2' });
    manager.faults.apply('db', { type: 'latency', params: { delayMs: 5 } });
    await manager.remove('db');
    expect(manager.faults.list()).toEqual([]);
    const err = await manager.remove('db').catch((e: unknown) => e);
    expect(isFaultlineError(err, 'NOT_FOUND')).toBe(true);
  });

  it('refuses a second proxy with the same name with CONFLICT', async () => {
    manager = new ProxyManager();
    await manager.add({ name: 'db', listen: '127.0.0.1:0', upstream: '127.0.0.1:2' });
    const err = await manager
      .add({ name: 'db', listen: '127.0.0.1:0', upstream: '127.0.0.1:2' })
      .catch((e: unknown) => e);
    expect(isFaultlineError(err, 'CONFLICT')).toBe(true);
  });

  it('refuses an http proxy listen change to a taken port with CONFLICT, changing nothing and still serving', async () => {
    manager = new ProxyManager();
    const upstream = await listening(http.createServer((_req, res) => res.end('from the first upstream')));
    const other = await listening(http.createServer((_req, res) => res.end('from the second upstream')));
    const taken = await listening(net.createServer());
    await manager.add({ name: 'web', listen: '127.0.0.1:0', upstream, mode: 'http' });
    const before = manager.get('web');
    const err = await manager.update('web', { listen: taken, upstream: other }).catch((e: unknown) => e);
    expect(isFaultlineError(err, 'CONFLICT')).toBe(true);
    expect((err as { details: unknown }).details).toEqual({ proxy: 'web', listen: taken });
    expect(manager.get('web')).toEqual(before);
    expect(manager.get('web').listen).toBe('127.0.0.1:0');
    const res = await fetch(`http://${before.boundAddress}/`);
    expect(await res.text()).toBe('from the first upstream');
  });

  it('keeps a disabled proxy disabled when enabling it fails to listen, with CONFLICT', async () => {
    manager = new ProxyManager();
    const taken = await listening(net.createServer());
    await manager.add({ name: 'db', listen: taken, upstream: '127.0.0.1:2', enabled: false });
    const before = manager.get('db');
    const err = await manager.update('db', { enabled: true }).catch((e: unknown) => e);
    expect(isFaultlineError(err, 'CONFLICT')).toBe(true);
    expect((err as { details: unknown }).details).toEqual({ proxy: 'db', listen: taken });
    expect(manager.get('db')).toEqual(before);
    expect(manager.get('db')).toMatchObject({ enabled: false, boundAddress: null });
  });

  it('puts back the old listener when a mode change cannot listen, with CONFLICT', async () => {
    manager = new ProxyManager();
    const upstream = await listening(http.createServer((_req, res) => res.end('served')));
    const taken = await listening(net.createServer());
    await manager.add({ name: 'web', listen: '127.0.0.1:0', upstream, mode: 'http' });
    const before = manager.get('web');
    const err = await manager.update('web', { mode: 'tcp', listen: taken }).catch((e: unknown) => e);
    expect(isFaultlineError(err, 'CONFLICT')).toBe(true);
    const after = manager.get('web');
    expect(after).toMatchObject({ mode: 'http', listen: '127.0.0.1:0', enabled: true });
    expect(after.boundAddress).not.toBeNull();
    const res = await fetch(`http://${after.boundAddress}/`);
    expect(await res.text()).toBe('served');
    expect(before.mode).toBe('http');
  });
});
