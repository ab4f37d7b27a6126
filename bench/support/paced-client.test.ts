import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildPacedClient, openPacedSession, type PacedSession, runPaced } from './paced-client.ts';

let dir: string;
let bin: string;
let server: Server | undefined;
let session: PacedSession | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'faultline-paced-client-'));
  bin = buildPacedClient(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await session?.close();
  session = undefined;
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A loopback HTTP server; returns its base URL and the sockets it has seen. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets = new Set<unknown>();
  server = createServer(handler);
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => sockets.add(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, sockets };
}

describe('paced client (C, open loop)', () => {
  it('sends rate × duration requests over at most the given keep-alive connections and reports those due after the warm-up', async () => {
    let requests = 0;
    const { url, sockets } = await serve((_req, res) => {
      requests++;
      res.end('ok');
    });
    const r = await runPaced(bin, {
      url: `${url}/`,
      ratePerSec: 200,
      durationSec: 1,
      warmupSec: 0.5,
      connections: 8,
    });
    expect(r.scheduled).toBe(200);
    expect(r.sent).toBe(200);
    expect(requests).toBe(200);
    expect(r.errors).toBe(0);
    expect(r.latenciesMs.length).toBe(100);
    expect(sockets.size).toBeLessThanOrEqual(8);
  });

  it('measures latency from the due time, so time spent waiting for a busy connection counts', async () => {
    // 2 connections × one answer per 50 ms = 40 req/s of capacity for 100 req/s asked: a queue
    // builds, and an honest open-loop client reports it instead of slowing down.
    const { url } = await serve((_req, res) => {
      setTimeout(() => res.end('slow'), 50);
    });
    const r = await runPaced(bin, {
      url: `${url}/`,
      ratePerSec: 100,
      durationSec: 1,
      warmupSec: 0,
      connections: 2,
    });
    expect(r.errors).toBe(0);
    expect(r.latenciesMs.length).toBe(100);
    expect(Math.min(...r.latenciesMs)).toBeGreaterThanOrEqual(50);
    expect(r.queued).toBeGreaterThan(50);
    // The last request waits behind ~60 others at 25 ms each: far more than the 50 ms service time.
    expect(Math.max(...r.latenciesMs)).toBeGreaterThan(1_000);
    expect(Math.max(...r.sendLagMs)).toBeGreaterThan(900);
  });

  it('reads chunked answers and counts 5xx answers as errors', async () => {
    const { url } = await serve((req, res) => {
      if (req.url === '/fail') {
        res.statusCode = 503;
        res.end('down');
        return;
      }
      res.write('first chunk, ');
      setTimeout(() => res.end('last chunk'), 2);
    });
    const ok = await runPaced(bin, {
      url: `${url}/`,
      ratePerSec: 100,
      durationSec: 0.5,
      warmupSec: 0,
      connections: 4,
    });
    expect(ok.errors).toBe(0);
    expect(ok.latenciesMs.length).toBe(50);
    const failing = await runPaced(bin, {
      url: `${url}/fail`,
      ratePerSec: 100,
      durationSec: 0.5,
      warmupSec: 0,
      connections: 4,
    });
    expect(failing.errors).toBe(50);
    expect(failing.latenciesMs.length).toBe(0);
  });

  it('counts a connection closed mid-request as an error and goes on over a fresh one', async () => {
    let n = 0;
    const { url, sockets } = await serve((req, res) => {
      if (++n % 10 === 0) req.socket.destroy();
      else res.end('ok');
    });
    const r = await runPaced(bin, {
      url: `${url}/`,
      ratePerSec: 100,
      durationSec: 1,
      warmupSec: 0,
      connections: 2,
    });
    expect(r.errors).toBe(10);
    expect(r.latenciesMs.length).toBe(90);
    expect(sockets.size).toBeGreaterThan(2);
  });

  it('keeps its connections from one phase of a session to the next', async () => {
    let requests = 0;
    const { url, sockets } = await serve((_req, res) => {
      requests++;
      res.end('ok');
    });
    session = openPacedSession(bin, { url: `${url}/`, connections: 4 });
    const first = await session.run({ ratePerSec: 100, durationSec: 0.5, warmupSec: 0 });
    const opened = sockets.size;
    const second = await session.run({ ratePerSec: 200, durationSec: 0.5, warmupSec: 0.25 });
    expect(opened).toBe(4);
    expect(sockets.size).toBe(4);
    expect(first.scheduled).toBe(50);
    expect(first.latenciesMs.length).toBe(50);
    expect(second.scheduled).toBe(100);
    expect(second.latenciesMs.length).toBe(50);
    expect(first.errors + second.errors).toBe(0);
    expect(requests).toBe(150);
  });

  it('reuses the most recently freed connection first, as Node http.Agent and Go http.Transport do', async () => {
    // Instant answers at 20 req/s: each answer is back long before the next request is due (50 ms),
    // so one connection carries nearly all 40; used in turn, each of the 5 would carry 8. A full
    // test suite on 2 cores once made enough answers late at 100 req/s to spread 29 of 100.
    const perSocket = new Map<unknown, number>();
    const { url } = await serve((req, res) => {
      perSocket.set(req.socket, (perSocket.get(req.socket) ?? 0) + 1);
      res.end('ok');
    });
    const r = await runPaced(bin, {
      url: `${url}/`,
      ratePerSec: 20,
      durationSec: 2,
      warmupSec: 0,
      connections: 5,
    });
    expect(r.errors).toBe(0);
    expect(Math.max(...perSocket.values())).toBeGreaterThanOrEqual(30);
  });

  it('fails a phase with a clear error when the client cannot run, and closes without hanging', async () => {
    const { url } = await serve((_req, res) => res.end('ok'));
    session = openPacedSession(join(dir, 'no-such-client'), { url: `${url}/`, connections: 1 });
    await expect(session.run({ ratePerSec: 10, durationSec: 0.1 })).rejects.toThrow(
      /paced client (could not run|exited)/,
    );
  });
});
