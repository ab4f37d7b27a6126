import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFaultlineError } from '../../../protocol/errors.ts';
import { DockerAdapter } from '../../adapters/docker.ts';
import { startAgent } from '../../agent.ts';
import { FaultRuntime } from '../../fault-runtime.ts';
import { Ledger } from '../../ledger.ts';
import { BackgroundTasks } from '../background-tasks.ts';
import { agentFaultRegistry } from '../registry.ts';
import { dockerPause } from './docker-pause.ts';
import { leftoverPlans, PLAN_DIR, planFile, readPlan, writePlan } from './docker-plan.ts';

// No engine needed: these run against a socket nobody listens on.
const NO_ENGINE = '/nonexistent/faultline-test/docker.sock';

describe('docker faults without a Docker engine', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-docker-unit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('fail to apply with FAULT_APPLY_FAILED naming the socket, and the ledger entry is closed', async () => {
    const ledger = new Ledger(dir);
    const runtime = new FaultRuntime({
      agentId: 'a',
      stateDir: dir,
      ledger,
      registry: agentFaultRegistry,
      adapters: { docker: new DockerAdapter({ socketPath: NO_ENGINE }) },
    });
    try {
      const err = await runtime
        .apply({
          faultId: 'p1',
          faultType: 'docker-pause',
          target: 'container:web',
          params: {},
          leaseMs: 60_000,
        })
        .catch((e: unknown) => e);
      expect(isFaultlineError(err, 'FAULT_APPLY_FAILED')).toBe(true);
      expect((err as Error).message).toContain(NO_ENGINE);
      expect(ledger.open()).toEqual([]);
      expect(existsSync(planFile(dir, 'p1'))).toBe(false);
    } finally {
      await runtime.close();
      ledger.close();
    }
  });

  it('let an agent start and replay when a plan is left and no engine answers; the plan stays', async () => {
    const plan = planFile(dir, 'left');
    writePlan(plan, {
      faultId: 'left',
      type: 'docker-pause',
      containers: [{ id: 'c1', name: 'web', before: { paused: false } }],
      skipped: [],
    });
    const agent = await startAgent({
      token: 't',
      agentId: 'no-docker',
      stateDir: dir,
      adapters: { docker: new DockerAdapter({ socketPath: NO_ENGINE }) },
    });
    try {
      expect(agent.replayed).toEqual({ reverted: 0, swept: 0, failed: [] });
      expect(existsSync(plan)).toBe(true);
    } finally {
      await agent.close();
    }
  });

  it('revert an undo recipe whose plan was never written as vanished, without calling the engine', async () => {
    const ctx = {
      faultId: 'never',
      agentId: 'a',
      stateDir: dir,
      background: new BackgroundTasks(),
      adapters: { docker: new DockerAdapter({ socketPath: NO_ENGINE }) },
    };
    const recipe = dockerPause.undo('container:web', {}, ctx);
    await expect(dockerPause.revert(recipe, ctx)).resolves.toBe('vanished');
  });
});

describe('plan files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'faultline-docker-plan-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('read back what was written, and undefined when there is none', () => {
    const file = planFile(dir, 'f1');
    const plan = {
      faultId: 'f1',
      type: 'docker-stop',
      containers: [{ id: 'c', name: 'n', before: { running: true } }],
      skipped: [],
    };
    expect(readPlan(file)).toBeUndefined();
    writePlan(file, plan);
    expect(readPlan(file)).toEqual(plan);
    expect(readdirSync(join(dir, PLAN_DIR))).toEqual(['f1.json']);
  });

  it('leftovers are the complete plans; a half-written temp file is dropped', () => {
    writePlan(planFile(dir, 'done'), { faultId: 'done', type: 'docker-kill', containers: [], skipped: [] });
    writeFileSync(join(dir, PLAN_DIR, 'torn.json.tmp'), '{"faultId":');
    expect(leftoverPlans(dir)).toEqual([planFile(dir, 'done')]);
    expect(readdirSync(join(dir, PLAN_DIR))).toEqual(['done.json']);
  });
});
