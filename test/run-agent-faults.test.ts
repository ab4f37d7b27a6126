import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../agent/agent.ts';
import { findTagged, killTagged } from '../agent/faults/tagged-process.ts';
import { type AgentChild, spawnAgent, stopChild } from '../agent/test-support/agent-process.ts';
import type { JournalFile } from '../protocol/journal.ts';
import type { Verdict } from '../protocol/verdict.ts';
import { type SampleService, startSampleService } from '../scripts/sample-service.ts';
import { runCli, startCli } from './support/cli-child.ts';
import { docker, removeTestObjects, startTestContainer } from './support/docker-env.ts';

// `faultline run` as a real child process on experiments that mix proxy and agent faults: the
// in-process agent (default), an external `faultline agent` process joining through --listen, an
// abort that reverts agent faults too, and a run whose agents never come.

/** A loopback port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** How many workers tagged with `agentId` were seen while `child` ran (polled every 50 ms, at most 60 s). */
async function workersWhileRunning(agentId: string, child: ChildProcess): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
    const n = findTagged({ agentId }).length;
    if (n > 0) return n;
    await sleep(50);
  }
  return 0;
}

describe('faultline run with agent faults', () => {
  let dir: string;
  let service: SampleService;
  const children: AgentChild[] = [];
  /** Agent ids used by this file: every tagged worker left by any of them is killed afterwards. */
  const agentIds: string[] = [];
  const newAgentId = (name: string) => {
    const id = `run-${name}-${process.pid}`;
    agentIds.push(id);
    return id;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-run-agents-'));
    service = await startSampleService({ host: '127.0.0.1', port: 0, baseDelayMs: 1 });
  });

  afterEach(async () => {
    for (const c of children.splice(0)) await stopChild(c);
    for (const agentId of agentIds) await killTagged([], { agentId });
  });

  afterAll(async () => {
    await service?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function write(name: string, body: string): string {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, `apiVersion: faultline/v1\nkind: Experiment\nmetadata: { name: ${name} }\n${body}`);
    return file;
  }

  const proxyAndProbe = `  proxies:
    - { name: svc, listen: 127.0.0.1:0, upstream: 127.0.0.1:0, mode: http }
`;

  function readJournal(path: string): JournalFile['events'] {
    return (JSON.parse(readFileSync(path, 'utf8')) as JournalFile).events;
  }

  const runArgs = (file: string, name: string, extra: string[]) => [
    'run',
    file,
    '--json',
    '--journal',
    join(dir, `${name}.journal.json`),
    '--store',
    join(dir, `${name}.db`),
    ...extra,
  ];

  it('applies a proxy latency fault and an agent memory leak on the in-process agent, journals both, and leaves no worker behind', async () => {
    const agentId = newAgentId('mixed');
    const file = write(
      'mixed',
      `spec:
${proxyAndProbe.replace('upstream: 127.0.0.1:0', `upstream: 127.0.0.1:${service.port}`)}  hypothesis:
    probes:
      - { name: up, http: { url: http://127.0.0.1:${service.port}/checkout }, tolerance: { status: 200 } }
  targets:
    svc: { proxy: svc }
    box: { agents: { labels: { role: local } } }
  method:
    - parallel:
        - { fault: latency, target: svc, params: { delayMs: 20 }, duration: 2s }
        - { fault: memory-leak, target: box, params: { rateMbPerSec: 20, maxMb: 30 }, duration: 2s }
  settings: { leaseMs: 1500, probeInterval: 100ms, steadyStateSamples: 2 }
`,
    );
    const { child, done } = startCli(
      runArgs(file, 'mixed', ['--agent-id', agentId, '--agent-state-dir', join(dir, 'mixed-agent')]),
    );
    // While the run is on, the leak is a real worker process tagged with the in-process agent's id.
    const seen = await workersWhileRunning(agentId, child);
    const r = await done;
    expect(r.code, r.stderr).toBe(0);
    expect(seen).toBe(1);
    const verdict = JSON.parse(r.stdout) as Verdict;
    expect(verdict.ending).toBe('completed');
    const runId = verdict.runId;
    expect(verdict.faults.map((f) => [f.id, f.type, f.proxy, f.agentId ?? null]).sort()).toEqual([
      [`fl:${runId}:0.0`, 'latency', 'svc', null],
      [`${runId}.0.1.${agentId}`, 'memory-leak', '', agentId],
    ]);
    for (const f of verdict.faults) expect(f.revertedAt).toBeGreaterThanOrEqual(f.appliedAt!);

    const events = readJournal(join(dir, 'mixed.journal.json'));
    const agentFault = `${runId}.0.1.${agentId}`;
    const of = (type: string, id: string) =>
      events.find((e) => e.type === type && e.data.faultId === id) ?? null;
    for (const id of [agentFault, `fl:${runId}:0.0`]) {
      expect(of('fault-applying', id)!.seq).toBeLessThan(of('fault-applied', id)!.seq);
      expect(of('fault-reverted', id)!.data).toMatchObject({ wasActive: true, confirmed: true });
    }
    expect(of('fault-applying', agentFault)!.data).toMatchObject({
      agentId,
      on: 'host',
      type: 'memory-leak',
      undo: { kind: 'agent-fault', agentId, faultId: agentFault },
    });
    expect(events.find((e) => e.type === 'all-faults-reverted')!.data.faults).toHaveLength(2);
    expect(findTagged({ agentId })).toEqual([]);
  });

  it('lets an external `faultline agent` started elsewhere take part through --listen', async () => {
    const agentId = newAgentId('external');
    const port = await freePort();
    const file = write(
      'external',
      `spec:
  targets:
    remote: { agents: { ids: [${agentId}] } }
  method:
    - { fault: cpu-stress, target: remote, params: { percent: 20, cores: 1 }, duration: 1s }
  settings: { leaseMs: 1500, probeInterval: 100ms, steadyStateSamples: 1 }
`,
    );
    const run = startCli(
      runArgs(file, 'external', [
        '--listen',
        `127.0.0.1:${port}`,
        '--agent-token',
        't',
        '--no-local-agent',
        '--wait-agents',
        '15s',
      ]),
    );
    // Started after the run: it dials (and redials) until the hub answers.
    const agent = spawnAgent({
      controller: `ws://127.0.0.1:${port}`,
      agentId,
      stateDir: join(dir, 'external-agent'),
    });
    children.push(agent);
    const seen = await workersWhileRunning(agentId, run.child);
    const r = await run.done;
    expect(r.code, `${r.stderr}\n${agent.log()}`).toBe(0);
    expect(seen).toBe(1);
    expect(r.stderr).toContain(`agent hub listening on ws://127.0.0.1:${port}`);
    const verdict = JSON.parse(r.stdout) as Verdict;
    expect(verdict.faults).toEqual([
      expect.objectContaining({ id: `${verdict.runId}.0.${agentId}`, type: 'cpu-stress', agentId }),
    ]);
    expect(verdict.faults[0]!.revertedAt).not.toBeNull();
    // The run is over; the agent is still connected and holds nothing.
    expect(findTagged({ agentId })).toEqual([]);
    expect(agent.child.exitCode).toBeNull();
  });

  it('aborts on a guard that sees the agent fault, reverting it and the proxy fault, with the abort timed', async () => {
    const agentId = newAgentId('abort');
    // Fails while any worker of this agent runs: the guard sees the agent fault itself. `[-]` keeps
    // grep and sh from matching their own command lines.
    const noWorker = `[sh, -c, "! grep -qs -- '[-]-faultline-agent=${agentId}' /proc/[0-9]*/cmdline"]`;
    const file = write(
      'abort',
      `spec:
${proxyAndProbe.replace('upstream: 127.0.0.1:0', `upstream: 127.0.0.1:${service.port}`)}  hypothesis:
    probes:
      - { name: no-stress, command: { run: ${noWorker}, timeoutMs: 2000 }, tolerance: { exitCode: 0 } }
  targets:
    svc: { proxy: svc }
    box: { agents: { labels: { role: local } } }
  method:
    - { fault: latency, target: svc, params: { delayMs: 50 }, duration: 20s }
    - { fault: cpu-stress, target: box, params: { percent: 10, cores: 1 }, duration: 20s }
  guards:
    - { probe: no-stress, every: 100ms, failAfter: 2 }
  settings: { leaseMs: 2000, probeInterval: 100ms, steadyStateSamples: 2 }
`,
    );
    const r = await runCli(
      runArgs(file, 'abort', ['--agent-id', agentId, '--agent-state-dir', join(dir, 'abort-agent')]),
    );
    expect(r.code, r.stderr).toBe(3);
    const verdict = JSON.parse(r.stdout) as Verdict;
    expect(verdict.ending).toBe('aborted');
    expect(verdict.abort?.guard).toBe('probe:no-stress');
    expect(verdict.abort!.abortLatencyMs).toBeLessThan(2000);
    expect(verdict.faults).toHaveLength(2);
    for (const f of verdict.faults) expect(f.revertedAt).not.toBeNull();
    // Breach → decision → every revert (the agent's included) confirmed, in journal order.
    const events = readJournal(join(dir, 'abort.journal.json'));
    const seq = (type: string, id?: string) =>
      events.find((e) => e.type === type && (id === undefined || e.data.faultId === id))!.seq;
    const agentFault = `${verdict.runId}.1.${agentId}`;
    expect(seq('breach-seen')).toBeLessThan(seq('abort-decided'));
    expect(seq('abort-decided')).toBeLessThan(seq('fault-reverted', agentFault));
    expect(seq('fault-reverted', agentFault)).toBeLessThan(seq('all-faults-reverted'));
    expect(seq('fault-reverted', `fl:${verdict.runId}:0`)).toBeLessThan(seq('all-faults-reverted'));
    expect(findTagged({ agentId })).toEqual([]);
    // The hypothesis holds again once the stress is gone.
    expect(verdict.hypothesisAfter?.ok).toBe(true);
  });

  it('fails clearly within --wait-agents and applies nothing when no agent connects', async () => {
    const file = write(
      'lonely',
      `spec:
  targets:
    web: { agents: { labels: { role: web } } }
  method:
    - { fault: cpu-stress, target: web, params: { percent: 50 }, duration: 5s }
`,
    );
    const t0 = Date.now();
    const r = await runCli(runArgs(file, 'lonely', ['--no-local-agent', '--wait-agents', '1s']));
    const elapsed = Date.now() - t0;
    expect(r.code, r.stderr).toBe(4);
    const verdict = JSON.parse(r.stdout) as Verdict;
    expect(verdict.ending).toBe('failed');
    expect(verdict.reason).toBe(
      'no agents for target web (labels role=web) within 1000 ms of waiting (connected: none); nothing was applied',
    );
    expect(verdict.faults).toEqual([]);
    expect(verdict.hypothesisBefore).toBeNull();
    // Child start-up (Node, TypeScript) plus the 1 s wait.
    expect(elapsed).toBeLessThan(8000);
    const events = readJournal(join(dir, 'lonely.journal.json'));
    expect(events.some((e) => e.type.startsWith('fault-'))).toBe(false);
    expect(events.filter((e) => e.type === 'phase-entered').map((e) => e.phase)).toEqual([
      'planned',
      'reverting',
    ]);
  });

  it('refuses a non-loopback --listen without a token as invalid input before starting anything', async () => {
    const file = write(
      'open',
      `spec:
  targets:
    web: { agents: {} }
  method:
    - { fault: cpu-stress, target: web, params: { percent: 50 }, duration: 1s }
`,
    );
    const r = await runCli(['run', file, '--listen', '0.0.0.0:0', '--store', join(dir, 'open.db')], 15_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--listen 0.0.0.0:0 is not a loopback address: give --agent-token');
  });
});

describe('the shipped agent example experiments', () => {
  let dir: string;
  const agentIds = ['memory-leak', 'cpu-stress', 'dependency-blackhole'].map(
    (name) => [name, `example-${name}-${process.pid}`] as const,
  );

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-run-examples-'));
  });

  afterAll(async () => {
    // Each agent's own start-up replays its ledger and sweeps what is tagged with its id (workers,
    // iptables rules): the cleanup that would run after a crash, run here whatever happened.
    for (const [name, agentId] of agentIds) {
      const agent = await startAgent({ token: 'x', agentId, stateDir: join(dir, name) });
      await agent.close();
      await killTagged([], { agentId });
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('run as-is: memory leak and CPU stress hold their hypothesis, the blackhole is caught by its guard', async () => {
    const results = await Promise.all(
      agentIds.map(async ([name, agentId]) => {
        const r = await runCli(
          [
            'run',
            `experiments/${name}.yaml`,
            '--json',
            '--store',
            join(dir, `${name}.db`),
            '--agent-id',
            agentId,
            '--agent-state-dir',
            join(dir, name),
          ],
          60_000,
        );
        return { name, agentId, r, verdict: JSON.parse(r.stdout || 'null') as Verdict | null };
      }),
    );
    const byName = Object.fromEntries(results.map((x) => [x.name, x]));
    for (const name of ['memory-leak', 'cpu-stress']) {
      const { r, verdict } = byName[name]!;
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(verdict?.ending).toBe('completed');
      expect(verdict?.faults[0]).toMatchObject({ type: name, target: 'host' });
      expect(verdict?.faults[0]?.revertedAt).not.toBeNull();
    }
    const blackhole = byName['dependency-blackhole']!;
    expect(blackhole.r.code, blackhole.r.stderr).toBe(3);
    expect(blackhole.verdict?.abort?.guard).toBe('probe:inventory-accepts');
    expect(blackhole.verdict?.abort?.abortLatencyMs).toBeLessThan(2000);
    // Reverted means reverted: the dependency accepts connections again after the run.
    expect(blackhole.verdict?.hypothesisAfter?.ok).toBe(true);
    for (const { agentId } of results) expect(findTagged({ agentId })).toEqual([]);
    expect(execFileSync('iptables', ['-S'], { encoding: 'utf8' })).not.toContain(
      `faultline:${blackhole.agentId}:`,
    );
  }, 90_000);
});

describe('the shipped container-kill example', () => {
  const tag = `run-container-kill-${process.pid}`;
  const agentId = `example-container-kill-${process.pid}`;
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-run-container-kill-'));
  });

  afterAll(async () => {
    await removeTestObjects(tag);
    rmSync(dir, { recursive: true, force: true });
  });

  it('kills one of the two demo replicas and starts it again on revert, the service whole afterwards', async () => {
    // The two replicas the example's comment describes: busybox httpd on host networking, loopback only.
    const replicas = await Promise.all(
      ['127.0.0.1:18085', '127.0.0.1:18086'].map((address) =>
        startTestContainer({
          tag,
          labels: { app: 'faultline-demo' },
          network: 'host',
          cmd: ['httpd', '-f', '-p', address],
        }),
      ),
    );
    const running = async () =>
      Promise.all(replicas.map(async (c) => (await docker.getContainer(c.id).inspect()).State.Running));
    const run = startCli([
      'run',
      'experiments/container-kill.yaml',
      '--json',
      '--store',
      join(dir, 'store.db'),
      '--agent-id',
      agentId,
      '--agent-state-dir',
      join(dir, 'agent'),
    ]);
    // While the fault is on, exactly one replica is down.
    let down: boolean[] | null = null;
    const deadline = Date.now() + 60_000;
    while (run.child.exitCode === null && Date.now() < deadline && down === null) {
      const states = await running();
      if (states.includes(false)) down = states;
      else await sleep(100);
    }
    const r = await run.done;
    expect(r.code, r.stderr).toBe(0);
    expect(down?.filter((s) => !s)).toHaveLength(1);
    const verdict = JSON.parse(r.stdout) as Verdict;
    expect(verdict.ending).toBe('completed');
    expect(verdict.faults).toEqual([expect.objectContaining({ type: 'docker-kill', agentId })]);
    expect(await running()).toEqual([true, true]);
  }, 90_000);
});
