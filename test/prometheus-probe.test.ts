import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProbe } from '../controller/engine/probes/create-probe.ts';
import type { ProbeSample } from '../controller/engine/probes/probe.ts';
import { evaluateTolerance } from '../controller/engine/tolerance/evaluate-tolerance.ts';
import { Probe } from '../protocol/experiment-probes.ts';
import { Tolerance } from '../protocol/experiment-tolerance.ts';
import { type ProxyServer, startProxyServer } from '../proxy/proxy-server.ts';

/**
 * A real Prometheus (Debian package `prometheus`) started by this test with its own config and
 * storage in a temp dir, scraping the fault proxy's /metrics every second; the prometheus probe's
 * instant queries and their tolerances are checked against known traffic.
 */

const OK_REQUESTS = 20;
const FAILED_REQUESTS = 10;
const TOTAL = 'sum(faultline_proxy_requests_total{proxy="shop"})';

let upstream: Server;
let proxy: ProxyServer;
let prometheus: ChildProcess | undefined;
let promUrl = '';
let dir = '';

function prometheusBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('prometheus is not installed: apt-get install -y --no-install-recommends prometheus');
  }
}

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns true, at most `timeoutMs`; fails with `what` and the prometheus log. */
async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    if (prometheus?.exitCode !== null) break;
    await sleep(200);
  }
  const log = dir ? readFileSync(join(dir, 'prometheus.log'), 'utf8').slice(-2000) : '';
  throw new Error(`timed out waiting for ${what}; prometheus log tail:\n${log}`);
}

function probeFor(query: string) {
  return createProbe(Probe.parse({ name: 'prom', prometheus: { url: promUrl, query, timeoutMs: 2000 } }), {});
}
const run = (query: string): Promise<ProbeSample> => probeFor(query).run(new AbortController().signal);

beforeAll(async () => {
  const bin = prometheusBinary();
  upstream = createHttpServer((req, res) => {
    res.writeHead(req.url === '/fail' ? 503 : 200).end('x');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  proxy = await startProxyServer({
    admin: '127.0.0.1:0',
    proxies: [
      {
        name: 'shop',
        listen: '127.0.0.1:0',
        upstream: `127.0.0.1:${(upstream.address() as AddressInfo).port}`,
        mode: 'http',
      },
    ],
  });
  const via = `http://${proxy.manager.get('shop').boundAddress}`;
  for (let i = 0; i < OK_REQUESTS; i++) await (await fetch(`${via}/ok`)).text();
  for (let i = 0; i < FAILED_REQUESTS; i++) await (await fetch(`${via}/fail`)).text();

  dir = mkdtempSync(join(tmpdir(), 'faultline-prom-'));
  const adminHostPort = new URL(proxy.adminUrl).host;
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: faultline-proxy',
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: ['${adminHostPort}']`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const log = openSync(join(dir, 'prometheus.log'), 'w');
  prometheus = spawn(
    bin,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', log, log] },
  );
  await waitFor(
    'prometheus to be ready',
    20_000,
    async () => (await fetch(`${promUrl}/-/ready`)).status === 200,
  );
  await waitFor(
    'the first scrape of the proxy',
    15_000,
    async () => (await run(TOTAL)).value === OK_REQUESTS + FAILED_REQUESTS,
  );
}, 45_000);

afterAll(async () => {
  const child = prometheus;
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid, 'SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  }
  await proxy?.close(0);
  upstream?.closeAllConnections();
  if (upstream) await new Promise((r) => upstream.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('prometheus probe against a real Prometheus', () => {
  it('reads the scraped request count and the tolerance holds or fails on it', async () => {
    const sample = await run(TOTAL);
    expect(sample).toMatchObject({ kind: 'prometheus', ok: true, value: 30 });
    expect(evaluateTolerance(Tolerance.parse({ value: { equals: 30 } }), sample, [], undefined).ok).toBe(
      true,
    );
    const tooMany = evaluateTolerance(Tolerance.parse({ value: { max: 20 } }), sample, [], undefined);
    expect(tooMany).toMatchObject({ ok: false, reasons: ['value 30 > max 20'], observed: { value: 30 } });
  });

  it('evaluates an error-ratio query against min and max bounds', async () => {
    const ratio = await run(
      'sum(faultline_proxy_requests_total{proxy="shop",outcome="http_5xx"}) / sum(faultline_proxy_requests_total{proxy="shop"})',
    );
    expect(ratio.ok).toBe(true);
    expect(ratio.value).toBeCloseTo(1 / 3, 9);
    expect(evaluateTolerance(Tolerance.parse({ value: { max: 0.5 } }), ratio, [], undefined).ok).toBe(true);
    expect(evaluateTolerance(Tolerance.parse({ value: { max: 0.2 } }), ratio, [], undefined).reasons).toEqual(
      ['value 0.333 > max 0.2'],
    );
  });

  it('reads scalars and sees the scrape target up', async () => {
    expect(await run('scalar(up{job="faultline-proxy"})')).toMatchObject({ ok: true, value: 1 });
  });

  it('fails clearly on no series, several series and a PromQL error', async () => {
    const none = await run('faultline_proxy_requests_total{proxy="nope"}');
    expect(none).toMatchObject({ ok: false, error: 'query returned no series (is the metric scraped yet?)' });
    expect(evaluateTolerance(Tolerance.parse({ value: { max: 1 } }), none, [], undefined).reasons).toEqual([
      'probe failed: query returned no series (is the metric scraped yet?)',
    ]);
    const several = await run('faultline_proxy_requests_total{proxy="shop",outcome=~"ok|http_5xx"}');
    expect(several).toMatchObject({
      ok: false,
      error: 'query returned 2 series; aggregate it to one, e.g. sum(...)',
    });
    const broken = await run('sum(');
    expect(broken.ok).toBe(false);
    expect(broken.error).toMatch(/^prometheus: bad_data: /);
  });

  it('fails with a connection error once Prometheus is unreachable', async () => {
    const probe = createProbe(
      Probe.parse({
        name: 'gone',
        prometheus: { url: `http://127.0.0.1:${await freePort()}`, query: 'up', timeoutMs: 1000 },
      }),
      {},
    );
    const s = await probe.run(new AbortController().signal);
    expect(s.ok).toBe(false);
    expect(s.error).toContain('ECONNREFUSED');
  });
});

// The proxy this file starts anyway also checks the proxyMetrics probe against the real window API.
describe('proxyMetrics probe against the same real proxy', () => {
  it('reads the window report and judges its error rate', async () => {
    const probe = createProbe(Probe.parse({ name: 'pm', proxyMetrics: { proxy: 'shop', window: '60s' } }), {
      proxyAdmin: proxy.adminUrl,
    });
    const s = await probe.run(new AbortController().signal);
    expect(s).toMatchObject({ ok: true, slice: { requests: 30, errors: 10 } });
    const r = evaluateTolerance(Tolerance.parse({ errorRate: { max: 0.05 } }), s, [], undefined);
    expect(r.reasons).toEqual(['error rate 0.333 (10 of 30) > max 0.05']);
  });
});
