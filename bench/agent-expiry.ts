// Lease expiry → fault reverted, per agent fault kind: the agent's own safety net when the
// controller stops renewing. Every trial applies a real fault through the agent's FaultRuntime
// (real ledger with fsync, real workers, files, containers, rules), lets its lease run out, and
// times from the lease's expiry to the revert being done and recorded. Target: p99 ≤ 200 ms for
// every kind but docker stop/start, which reports its own figure.
// Usage: npx node bench/agent-expiry.ts [--trials 50] [--lease-ms 300] [--only TYPE,...] [--no-write]
import { parseArgs } from 'node:util';
import type { AnyAgentFault } from '../agent/faults/agent-fault.ts';
import { agentFaultRegistry } from '../agent/faults/registry.ts';
import { netemSupport } from '../agent/net/netem-support.ts';
import { targetProviderFor } from './support/agent-expiry-targets.ts';
import { type ExpiryTrial, expiryTrials } from './support/agent-expiry-trials.ts';
import { startBenchRun } from './support/bench-run.ts';
import { fmtMs, markdownTable, quantile } from './support/report.ts';

const { values: args } = parseArgs({
  options: {
    trials: { type: 'string', default: '50' },
    'lease-ms': { type: 'string', default: '300' },
    only: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const TRIALS = Number(args.trials);
const LEASE_MS = Number(args['lease-ms']);
/**
 * Docker faults get a longer lease: the lease is armed before apply acts, and an engine call
 * (inspect, then kill/stop/update) can take longer than 300 ms on a busy machine, in which case the
 * lease would run out before the fault was ever on.
 */
const CONTAINER_LEASE_MS = Math.max(LEASE_MS, 2_000);
const TARGET_P99_MS = 200;
/** Kinds whose revert is a container start, which takes the engine ~0.3–1 s by itself. */
const OWN_FIGURE = new Set(['docker-stop', 'docker-kill']);

const only = args.only?.split(',');
// Host latency needs sch_netem; where the kernel lacks it the fault refuses to apply at all.
const netem = netemSupport() === 'yes';
const faults: AnyAgentFault[] = [...agentFaultRegistry.values()].filter(
  (f) => (!only || only.includes(f.type)) && (netem || f.type !== 'network-latency'),
);
const run = startBenchRun('agent-expiry', {
  pin: false,
  unpinned:
    'Not pinned: the agent, its targets and the Docker engine share both cores, as they would on a host.',
});
const rows: string[][] = [];
const notes: string[] = [];
try {
  for (const fault of faults) {
    const provider = targetProviderFor(fault);
    const target = await provider.setUp(run.dir);
    let trials: ExpiryTrial[];
    try {
      const leaseMs =
        fault.targets.includes('container') && !fault.targets.includes('host')
          ? CONTAINER_LEASE_MS
          : LEASE_MS;
      trials = await expiryTrials({ fault, target, trials: TRIALS, leaseMs, dir: run.dir });
    } finally {
      await target.tearDown();
    }
    const ms = trials.map((t) => t.expiryToRevertedMs).sort((a, b) => a - b);
    const p99 = quantile(ms, 0.99);
    const verdict = OWN_FIGURE.has(fault.type)
      ? 'own figure'
      : p99 <= TARGET_P99_MS
        ? 'met'
        : `NOT met (> ${TARGET_P99_MS} ms)`;
    const leftovers = trials.filter((t) => !t.effectGone).length;
    rows.push([
      fault.type,
      target.describe,
      String(ms.length),
      fmtMs(quantile(ms, 0.5), 0),
      fmtMs(p99, 0),
      fmtMs(ms.at(-1)!, 0),
      String(leftovers),
      verdict,
    ]);
    console.log(rows.at(-1)!.join(' | '));
  }
  if (!netem)
    notes.push('network-latency not measured: this kernel has no sch_netem, so the fault refuses to apply.');
  notes.push(
    `Lease ${LEASE_MS} ms (docker faults ${CONTAINER_LEASE_MS} ms), ${TRIALS} trials per kind. Expiry = the lease's deadline (epoch ms, as the agent's lease ` +
      "table computes it); reverted = the revert resolved and its `reverted` record was fsync'd to the ledger. " +
      '"effect left" counts trials where the fault\'s effect was still visible after the revert (must be 0).',
  );
  const table = markdownTable(
    ['fault', 'target', 'trials', 'p50', 'p99', 'max', 'effect left', `p99 ≤ ${TARGET_P99_MS} ms`],
    rows,
  );
  run.report(table, notes, !args['no-write']);
} finally {
  await run.stop();
}
