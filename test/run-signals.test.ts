import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyFaultView } from '../protocol/proxy.ts';
import type { Verdict } from '../protocol/verdict.ts';
import { type ProxyServer, startProxyServer } from '../proxy/proxy-server.ts';
import { type SampleService, startSampleService } from '../scripts/sample-service.ts';
import { type Finished, startCli } from './support/cli-child.ts';

const children: ChildProcess[] = [];

function startRun(args: string[]): { child: ChildProcess; done: Promise<Finished> } {
  const run = startCli(args);
  children.push(run.child);
  return run;
}

async function faults(adminUrl: string): Promise<ProxyFaultView[]> {
  const res = await request(`${adminUrl}/faultline/faults`);
  return (await res.body.json()) as ProxyFaultView[];
}

/** Polls until the proxy holds a fault (the run reached its method), up to `timeoutMs`. */
async function waitForFault(adminUrl: string, timeoutMs = 10_000): Promise<ProxyFaultView> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const list = await faults(adminUrl);
    if (list.length > 0) return list[0]!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no fault appeared on the proxy within ${timeoutMs} ms`);
}

describe('faultline run stopped by signals', () => {
  let dir: string;
  let service: SampleService;
  let proxy: ProxyServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-run-signals-'));
    service = await startSampleService({ host: '127.0.0.1', port: 0, baseDelayMs: 2 });
    proxy = await startProxyServer({
      admin: '127.0.0.1:0',
      proxies: [{ name: 'svc', listen: '127.0.0.1:0', upstream: `127.0.0.1:${service.port}`, mode: 'http' }],
    });
  });

  afterEach(() => {
    for (const c of children.splice(0)) {
      if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
    }
  });

  afterAll(async () => {
    await proxy?.close(0);
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function writeExperiment(name: string, leaseMs: number): string {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      `apiVersion: faultline/v1
kind: Experiment
metadata: { name: ${name} }
spec:
  proxyAdmin: ${proxy.adminUrl}
  targets:
    svc: { proxy: svc }
  method:
    - { fault: latency, target: svc, params: { delayMs: 50 }, duration: 30s }
  settings: { leaseMs: ${leaseMs}, probeInterval: 100ms, steadyStateSamples: 1 }
`,
    );
    return file;
  }

  it('reverts every fault and exits 5 with an interrupted verdict on SIGTERM mid-fault', async () => {
    const file = writeExperiment('sigterm', 5000);
    const store = join(dir, 'sigterm.db');
    const { child, done } = startRun([
      'run',
      file,
      '--json',
      '--store',
      store,
      '--proxy-admin',
      proxy.adminUrl,
    ]);
    await waitForFault(proxy.adminUrl);
    process.kill(child.pid!, 'SIGTERM');
    const r = await done;
    expect(r.code, r.stderr).toBe(5);
    expect(await faults(proxy.adminUrl)).toEqual([]);
    const verdict = JSON.parse(r.stdout) as Verdict;
    expect(verdict.ending).toBe('interrupted');
    expect(verdict.faults[0]?.revertedAt).not.toBeNull();
  });

  it('leaves a fault that disappears once its lease expires when the runner is killed with SIGKILL', async () => {
    const leaseMs = 1000;
    const file = writeExperiment('sigkill', leaseMs);
    const store = join(dir, 'sigkill.db');
    const { child, done } = startRun(['run', file, '--store', store, '--proxy-admin', proxy.adminUrl]);
    const fault = await waitForFault(proxy.adminUrl);
    process.kill(child.pid!, 'SIGKILL');
    const killedAt = Date.now();
    const r = await done;
    expect(r.signal).toBe('SIGKILL');
    // Still there right after the kill: nobody reverted it...
    expect((await faults(proxy.adminUrl)).map((f) => f.id)).toContain(fault.id);
    // ...until the lease, no longer renewed, runs out (renewed at most lease/3 before the kill).
    while ((await faults(proxy.adminUrl)).length > 0) {
      expect(Date.now() - killedAt).toBeLessThan(leaseMs + 1000);
      await new Promise((res) => setTimeout(res, 25));
    }
    // The journal kept the undo recipe, written before the apply, for a later sweep.
    const db = new DatabaseSync(store, { readOnly: true });
    try {
      const row = db.prepare("SELECT data FROM journal WHERE type = 'fault-applying'").get() as {
        data: string;
      };
      expect(JSON.parse(row.data).undo).toMatchObject({ faultId: fault.id, http: { method: 'DELETE' } });
      const run = db.prepare('SELECT ending FROM runs').get() as { ending: string | null };
      expect(run.ending).toBeNull();
    } finally {
      db.close();
    }
  });
});
