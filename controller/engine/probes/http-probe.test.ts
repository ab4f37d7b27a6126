import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpProbe } from './http-probe.ts';
import { startTestServer } from './test-server.ts';

describe('http probe', () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  const seen: { method?: string; header?: string; body: string }[] = [];
  beforeAll(async () => {
    srv = await startTestServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ method: req.method, header: req.headers['x-probe'] as string, body });
        if (req.url === '/slow') return void setTimeout(() => res.end('late'), 1000);
        res.writeHead(req.url === '/missing' ? 404 : 200, {
          'content-type': 'application/json',
          'set-cookie': ['a=1', 'b=2'],
        });
        res.end(JSON.stringify({ ok: true, path: req.url }));
      });
    });
  });
  afterAll(() => srv.close());

  it('records status, lower-case headers, body and latency of a real request', async () => {
    const probe = createHttpProbe('p', {
      url: `${srv.url}/checkout`,
      method: 'post',
      headers: { 'X-Probe': 'yes' },
      body: 'hi',
      timeoutMs: 2000,
    });
    const s = await probe.run(new AbortController().signal);
    expect(s).toMatchObject({
      probe: 'p',
      kind: 'http',
      ok: true,
      status: 200,
      body: '{"ok":true,"path":"/checkout"}',
    });
    expect(s.headers?.['content-type']).toBe('application/json');
    expect(s.headers?.['set-cookie']).toBe('a=1, b=2');
    expect(s.latencyMs).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual({ method: 'POST', header: 'yes', body: 'hi' });
  });

  it('counts a 404 as a transport success for the tolerance to judge', async () => {
    const s = await createHttpProbe('p', {
      url: `${srv.url}/missing`,
      method: 'GET',
      headers: {},
      timeoutMs: 2000,
    }).run(new AbortController().signal);
    expect(s).toMatchObject({ ok: true, status: 404 });
  });

  it('fails with a clear message when nothing answers in time', async () => {
    const s = await createHttpProbe('p', {
      url: `${srv.url}/slow`,
      method: 'GET',
      headers: {},
      timeoutMs: 150,
    }).run(new AbortController().signal);
    expect(s.ok).toBe(false);
    expect(s.error).toBe('no response within 150 ms');
    expect(s.latencyMs).toBeLessThan(900);
  });

  it('fails with the connect error when the port is closed', async () => {
    const closed = await startTestServer((_req, res) => res.end());
    const url = closed.url;
    await closed.close();
    const s = await createHttpProbe('p', { url, method: 'GET', headers: {}, timeoutMs: 1000 }).run(
      new AbortController().signal,
    );
    expect(s.ok).toBe(false);
    expect(s.error).toContain('ECONNREFUSED');
  });
});
