import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JournalFile } from '../protocol/journal.ts';
import type { Verdict } from '../protocol/verdict.ts';
import { type ProxyServer, startProxyServer } from '../proxy/proxy-server.ts';
import { type SampleService, startSampleService } from '../scripts/sample-service.ts';
import { runCli } from './support/cli-child.ts';

async function timedGet(url: string): Promise<{ status: number; ms: number }> {
  const t = performance.now();
  const res = await request(url);
  await res.body.dump();
  return { status: res.statusCode, ms: performance.now() - t };
}

describe('faultline run against an external proxy, with a guard that breaches', () => {
  let dir: string;
  let service: SampleService;
  let proxy: ProxyServer;
  let proxyUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-run-abort-'));
    service = await startSampleService({ host: '127.0.0.1', port: 0, baseDelayMs: 5 });
    proxy = await startProxyServer({
      admin: '127.0.0.1:0',
      proxies: [{ name: 'svc', listen: '127.0.0.1:0', upstream: `127.0.0.1:${service.port}`, mode: 'http' }],
    });
    proxyUrl = `http://${proxy.manager.get('svc').boundAddress}`;
  });

  afterAll(async () => {
    await proxy?.close(0);
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 3, leaves no fault behind, journals breach → decision → revert in order and stores the run', async () => {
    const file = join(dir, 'abort.yaml');
    writeFileSync(
      file,
      `apiVersion: faultline/v1
kind: Experiment
metadata: { name: abort-test }
spec:
  proxyAdmin: ${proxy.adminUrl}
  hypothesis:
    probes:
      - name: fast
        http: { url: ${proxyUrl}/checkout, timeoutMs: 2000 }
        tolerance: { status: 200, latencyMs: { p50: { max: 150 } }, window: 1s }
  targets:
    svc: { proxy: svc }
  method:
    - { fault: latency, target: svc, params: { delayMs: 400 }, duration: 20s }
  guards:
    - { probe: fast, every: 100ms, failAfter: 2 }
  settings: { leaseMs: 2000, probeInterval: 100ms, steadyStateSamples: 3 }
`,
    );
    const journalPath = join(dir, 'journal.json');
    const storePath = join(dir, 'store', 'faultline.db');
    const { code, stdout, stderr } = await runCli([
      'run',
      file,
      '--json',
      '--journal',
      journalPath,
      '--store',
      storePath,
      '--proxy-admin',
      proxy.adminUrl,
    ]);
    expect(code, `${stderr}\n${stdout}`).toBe(3);

    const verdict = JSON.parse(stdout) as Verdict;
    expect(verdict.ending).toBe('aborted');
    expect(verdict.abort?.guard).toBe('probe:fast');
    expect(verdict.abort?.abortLatencyMs).toBeGreaterThanOrEqual(0);
    expect(verdict.abort?.abortLatencyMs).toBeLessThan(2000);

    // Nothing is left on the proxy, and traffic through it is back to the service's own speed.
    const faults = await request(`${proxy.adminUrl}/faultline/faults`);
    expect(await faults.body.json()).toEqual([]);
    const after = await timedGet(`${proxyUrl}/checkout`);
    expect(after.status).toBe(200);
    expect(after.ms).toBeLessThan(300);

    // The file matches its documented schema (docs/journal.md).
    const journal = JournalFile.parse(JSON.parse(readFileSync(journalPath, 'utf8')));
    expect(journal.format).toBe('faultline-journal/v1');
    const seqs = journal.events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const find = (type: string) => journal.events.find((e) => e.type === type)!;
    const seen = find('breach-seen');
    const decided = find('abort-decided');
    const reverted = find('all-faults-reverted');
    expect(seen.seq).toBeLessThan(decided.seq);
    expect(decided.seq).toBeLessThan(reverted.seq);
    expect(seen.at).toBeLessThanOrEqual(decided.at);
    expect(decided.at).toBeLessThanOrEqual(reverted.at);
    expect(reverted.at - seen.at).toBe(verdict.abort?.abortLatencyMs);
    // The undo recipe was durable before the fault was applied.
    expect(find('fault-applying').seq).toBeLessThan(find('fault-applied').seq);
    expect(find('fault-applying').data.undo).toMatchObject({ http: { method: 'DELETE' } });

    const db = new DatabaseSync(storePath, { readOnly: true });
    try {
      const run = db.prepare('SELECT ending, experiment FROM runs WHERE run_id = ?').get(verdict.runId);
      expect(run).toEqual({ ending: 'aborted', experiment: 'abort-test' });
      const count = db.prepare('SELECT COUNT(*) AS n FROM journal WHERE run_id = ?').get(verdict.runId) as {
        n: number;
      };
      expect(count.n).toBe(journal.events.length);
    } finally {
      db.close();
    }
  });
});
