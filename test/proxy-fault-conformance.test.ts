import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostPort } from '../protocol/host-port.ts';
import type { ProxyMode } from '../protocol/proxy.ts';
import { faultRegistry } from '../proxy/faults/registry.ts';
import { ProxyManager } from '../proxy/proxy-manager.ts';
import { faultDocProblems } from './support/fault-doc-sections.ts';

// One conformance suite over every proxy fault in the registry: strict schema, documented,
// a visible effect on real traffic, and apply → revert → revert again returns to the start.

const BODY = Buffer.alloc(4096, 'f');
const CAP_MS = 1500;
// Headers of a signed AWS JSON-protocol call, so AWS API faults have something to match.
const AWS_HEADERS = {
  authorization:
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
  'x-amz-target': 'DynamoDB_20120810.PutItem',
  'content-type': 'application/x-amz-json-1.0',
};

interface Exchange {
  error: string | null;
  bytes: string;
  status: number | null;
  ms: number;
}

function tcpExchange(address: string): Promise<Exchange> {
  const { host, port } = parseHostPort(address);
  const start = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | null = null;
    const socket = net.connect({ host, port });
    const done = () =>
      resolve({
        error,
        bytes: Buffer.concat(chunks).toString('latin1'),
        status: null,
        ms: performance.now() - start,
      });
    const cap = setTimeout(() => {
      error ??= 'cap';
      socket.destroy();
    }, CAP_MS);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on('close', () => {
      clearTimeout(cap);
      done();
    });
    socket.end(BODY);
  });
}

function httpExchange(address: string): Promise<Exchange> {
  const { host, port } = parseHostPort(address);
  const start = performance.now();
  return new Promise((resolve) => {
    const req = http.request({ host, port, method: 'POST', path: '/', headers: AWS_HEADERS, agent: false });
    const cap = setTimeout(() => req.destroy(new Error('cap')), CAP_MS);
    const finish = (e: Exchange) => {
      clearTimeout(cap);
      resolve(e);
    };
    req.on('error', (e: NodeJS.ErrnoException) =>
      finish({ error: e.code ?? e.message, bytes: '', status: null, ms: performance.now() - start }),
    );
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', () => {});
      res.on('close', () =>
        finish({
          error: res.complete ? null : 'incomplete',
          bytes: Buffer.concat(chunks).toString('latin1'),
          status: res.statusCode ?? null,
          ms: performance.now() - start,
        }),
      );
    });
    req.end('{}');
  });
}

const exchange = (mode: ProxyMode, address: string) =>
  mode === 'tcp' ? tcpExchange(address) : httpExchange(address);

let upstreams: { tcp: net.Server; http: http.Server };
const upstreamAddress = { tcp: '', http: '' };

beforeAll(async () => {
  const tcp = net.createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  const web = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(BODY));
  });
  upstreams = { tcp, http: web };
  for (const mode of ['tcp', 'http'] as const) {
    await new Promise<void>((r) => upstreams[mode].listen(0, '127.0.0.1', r));
    upstreamAddress[mode] = `127.0.0.1:${(upstreams[mode].address() as net.AddressInfo).port}`;
  }
});

afterAll(async () => {
  for (const s of Object.values(upstreams)) {
    (s as http.Server).closeAllConnections?.();
    await new Promise((r) => s.close(r));
  }
});

const docs = readFileSync(new URL('../docs/faults.md', import.meta.url), 'utf8');
const entries = (['tcp', 'http'] as const).flatMap((mode) =>
  [...faultRegistry[mode].values()].map((definition) => ({
    mode,
    definition,
    name: `${mode}: ${definition.type}`,
  })),
);

describe('every proxy fault in the registry', () => {
  it('has at least the faults the proxy promises', () => {
    expect([...faultRegistry.tcp.keys()].sort()).toEqual(
      [
        'bandwidth',
        'blackhole',
        'latency',
        'limit_data',
        'refuse',
        'reset_peer',
        'slicer',
        'slow_close',
        'timeout',
      ].sort(),
    );
    expect([...faultRegistry.http.keys()]).toEqual(
      expect.arrayContaining(['latency', 'abort', 'reset', 'timeout', 'bandwidth', 'aws']),
    );
  });

  describe.each(entries)('$name', ({ mode, definition }) => {
    it('accepts its example and rejects unknown parameters', () => {
      expect(definition.params.safeParse(definition.example).success).toBe(true);
      const extra = { ...(definition.example as object), surelyNotAParameter: 1 };
      expect(definition.params.safeParse(extra).success).toBe(false);
    });

    it('has a section in docs/faults.md with a row per parameter (unit, default) and a Revert line', () => {
      expect(faultDocProblems(docs, `### ${mode}: ${definition.type}`, definition.params)).toEqual([]);
    });

    it('changes real traffic, and after revert (twice) traffic is as before', async () => {
      const manager = new ProxyManager();
      try {
        await manager.add({ name: 'p', listen: '127.0.0.1:0', upstream: upstreamAddress[mode], mode });
        const address = manager.get('p').boundAddress!;
        const clean = await exchange(mode, address);
        expect(clean.error).toBeNull();
        expect(clean.bytes).toBe(BODY.toString('latin1'));

        const direction = definition.directions.includes('downstream')
          ? 'downstream'
          : definition.directions[0]!;
        const fault = manager.faults.apply('p', {
          type: definition.type,
          direction,
          params: definition.example as Record<string, unknown>,
          leaseMs: 0,
        });
        const faulted = await exchange(mode, address);
        const changed =
          faulted.error !== null ||
          faulted.status !== clean.status ||
          faulted.bytes !== clean.bytes ||
          faulted.ms > clean.ms + 50;
        expect(
          changed,
          `fault ${definition.type} left the exchange unchanged: ${JSON.stringify(faulted)}`,
        ).toBe(true);

        expect(manager.faults.revert(fault.id)).toBe(true);
        expect(manager.faults.revert(fault.id)).toBe(false);
        expect(manager.faults.list('p')).toEqual([]);
        const after = await exchange(mode, manager.get('p').boundAddress!);
        expect(after.error).toBeNull();
        expect(after.status).toBe(clean.status);
        expect(after.bytes).toBe(clean.bytes);
      } finally {
        await manager.close(0);
      }
    });
  });
});
