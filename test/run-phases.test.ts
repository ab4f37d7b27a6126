import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalFile } from '../protocol/journal.ts';
import type { Verdict } from '../protocol/verdict.ts';
import { type SampleService, startSampleService } from '../scripts/sample-service.ts';
import { runCli } from './support/cli-child.ts';

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe('faultline run phases and endings', () => {
  let dir: string;
  let service: SampleService;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-run-phases-'));
    service = await startSampleService({ host: '127.0.0.1', port: 0, baseDelayMs: 1 });
  });

  afterAll(async () => {
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An experiment with an in-process proxy (port 0) in front of the sample service. */
  function experiment(name: string, probes: string, rollbacks = '[]'): string {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      `apiVersion: faultline/v1
kind: Experiment
metadata: { name: ${name} }
spec:
  proxies:
    - { name: svc, listen: 127.0.0.1:0, upstream: 127.0.0.1:${service.port}, mode: http }
  hypothesis:
    probes:
${probes}
  targets:
    svc: { proxy: svc }
  method:
    - { fault: latency, target: svc, params: { delayMs: 10 }, duration: 300ms }
  rollbacks: ${rollbacks}
  settings: { leaseMs: 2000, probeInterval: 100ms, steadyStateSamples: 2 }
`,
    );
    return file;
  }

  async function run(file: string) {
    const journal = join(dir, `${file.split('/').pop()}.journal.json`);
    const r = await runCli(['run', file, '--json', '--journal', journal, '--store', join(dir, 'store.db')]);
    const events = (JSON.parse(readFileSync(journal, 'utf8')) as JournalFile).events;
    return { ...r, verdict: JSON.parse(r.stdout) as Verdict, events };
  }

  const phasesOf = (events: JournalFile['events']) =>
    events.filter((e) => e.type === 'phase-entered').map((e) => e.phase);

  it('ends failed with exit 4 and applies nothing when the hypothesis fails before any fault', async () => {
    const port = await closedPort();
    const file = experiment(
      'before-fails',
      `      - { name: db-up, tcp: { address: 127.0.0.1:${port}, timeoutMs: 500 } }`,
    );
    const r = await run(file);
    expect(r.code, r.stderr).toBe(4);
    expect(r.verdict.ending).toBe('failed');
    expect(r.verdict.reason).toContain('before any fault');
    expect(r.verdict.reason).toContain('db-up');
    expect(r.events.some((e) => e.type === 'fault-applying' || e.type === 'fault-applied')).toBe(false);
    expect(phasesOf(r.events)).toEqual(['planned', 'steady-state-before', 'reverting']);
    expect(r.verdict.faults.every((f) => f.appliedAt === null)).toBe(true);
  });

  it('ends deviated with exit 1 when the hypothesis fails after the faults are reverted', async () => {
    const marker = join(dir, 'broken-marker');
    const file = experiment(
      'after-fails',
      `      - { name: not-broken, command: { run: ["test", "!", "-e", "${marker}"] } }`,
      `[ { name: break-it, command: { run: ["touch", "${marker}"] } } ]`,
    );
    const r = await run(file);
    expect(existsSync(marker)).toBe(true);
    expect(r.code, r.stderr).toBe(1);
    expect(r.verdict.ending).toBe('deviated');
    expect(r.verdict.hypothesisBefore?.ok).toBe(true);
    expect(r.verdict.hypothesisAfter?.ok).toBe(false);
    expect(r.verdict.rollbacks).toEqual([{ name: 'break-it', ok: true, detail: 'ok' }]);
    expect(phasesOf(r.events)).toEqual([
      'planned',
      'steady-state-before',
      'injecting',
      'running',
      'reverting',
      'steady-state-after',
    ]);
  });

  it('plans without applying: prints each fault with its undo, the guards and the blast radius', async () => {
    const file = experiment(
      'plan-only',
      `      - { name: checkout, http: { url: http://127.0.0.1:${service.port}/checkout } }`,
    );
    const r = await runCli(['plan', file, '--proxy-admin', 'http://127.0.0.1:9']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('latency on svc (proxy svc, downstream) {"delayMs":10}');
    expect(r.stdout).toMatch(/undo: DELETE http:\/\/127\.0\.0\.1:9\/faultline\/faults\/fl%3Aplan%3A0/);
    expect(r.stdout).toContain('predicted blast radius:');
    expect(r.stdout).toContain('at most 100% of matching traffic, 1 fault(s) at once, longest 300ms');
  });

  it('refuses an agent step whose params do not fit the agent fault as invalid input (exit 2) before starting anything', async () => {
    const file = join(dir, 'agents.yaml');
    writeFileSync(
      file,
      `apiVersion: faultline/v1
kind: Experiment
metadata: { name: agents }
spec:
  targets:
    web: { agents: { labels: { role: web } } }
  method:
    - { fault: cpu-stress, target: web, duration: 1s }
`,
    );
    const r = await runCli(['run', file, '--store', join(dir, 'store.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'agents.yaml:8:7: spec.method[0].params.percent: missing required key `percent`',
    );
  });

  it('ends completed with exit 0 when the hypothesis holds before and after', async () => {
    const file = experiment(
      'holds',
      `      - { name: checkout, http: { url: http://127.0.0.1:${service.port}/checkout }, tolerance: { status: 200 } }`,
    );
    const r = await run(file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.verdict.ending).toBe('completed');
    const types = r.events.map((e) => e.type);
    expect(types.indexOf('fault-applying')).toBeLessThan(types.indexOf('fault-applied'));
    expect(types.indexOf('fault-reverted')).toBeLessThan(types.indexOf('all-faults-reverted'));
    expect(types.at(-1)).toBe('verdict');
  });
});
