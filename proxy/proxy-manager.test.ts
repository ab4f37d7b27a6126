import { afterEach, describe, expect, it } from 'vitest';
import { isFaultlineError } from '../protocol/errors.ts';
import { ProxyManager } from './proxy-manager.ts';

let manager: ProxyManager;
afterEach(() => manager.close(0));

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
});
