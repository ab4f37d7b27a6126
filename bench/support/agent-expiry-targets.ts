import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyAgentFault, Receipt } from '../../agent/faults/agent-fault.ts';
import { isSameProcess } from '../../agent/faults/tagged-process.ts';
import { WorkerReceipt } from '../../agent/faults/worker-processes.ts';
import {
  type ConformanceTarget,
  containerTarget,
  familyOf,
  netnsTarget,
} from '../../test/support/conformance-targets.ts';
import type { ExpiryTarget } from './agent-expiry-trials.ts';

/** Sets up (and later tears down) where one fault kind acts during the bench. */
export interface TargetProvider {
  setUp(dir: string): Promise<ExpiryTarget>;
}

/** Worker-process faults: gone when none of the receipt's processes lives. */
function workersGone(receipt: Receipt): Promise<boolean> {
  const { processes } = WorkerReceipt.parse(receipt);
  return Promise.resolve(processes.every((p) => !isSameProcess(p)));
}

const hostProviders: Record<string, TargetProvider> = {
  'disk-fill': {
    async setUp(dir) {
      return {
        target: 'host',
        params: { path: dir, sizeMb: 8 },
        describe: 'host, 8 MiB file',
        effectGone: async (receipt) => !existsSync(String(receipt.file ?? join(dir, 'missing'))),
        tearDown: async () => {},
      };
    },
  },
  'process-kill': {
    async setUp() {
      // An interval kill of a name nothing carries: what expiry must stop is the interval itself.
      return {
        target: 'host',
        params: { name: 'faultline-bench-no-such-process', signal: 'SIGTERM', intervalMs: 100 },
        describe: 'host, interval stopped',
        effectGone: async () => true,
        tearDown: async () => {},
      };
    },
  },
};

const workerProvider: TargetProvider = {
  async setUp() {
    return {
      target: 'host',
      describe: 'host, worker process',
      effectGone: workersGone,
      tearDown: async () => {},
    };
  },
};

/**
 * Network and docker faults act where the conformance test makes them act (a namespace of a
 * test-made lab; a container of the test image): gone = everything there is as before the fault.
 */
function conformanceProvider(family: 'netns' | 'container', describe: string): TargetProvider {
  return {
    async setUp() {
      const where: ConformanceTarget =
        family === 'netns' ? netnsTarget() : await containerTarget(`bench-expiry-${process.pid}`);
      const before = JSON.stringify(await where.snapshot());
      return {
        target: where.target,
        describe,
        effectGone: async () => JSON.stringify(await where.snapshot()) === before,
        tearDown: () => where.cleanup(),
      };
    },
  };
}

/** The provider for `fault`: by type when it needs one of its own, else by the target kinds it takes. */
export function targetProviderFor(fault: AnyAgentFault): TargetProvider {
  const own = hostProviders[fault.type];
  if (own) return own;
  const family = familyOf(fault);
  if (family === 'netns') return conformanceProvider('netns', 'test network namespace');
  if (family === 'container') return conformanceProvider('container', 'test container');
  return workerProvider;
}
