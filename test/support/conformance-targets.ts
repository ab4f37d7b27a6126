import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { AnyAgentFault } from '../../agent/faults/agent-fault.ts';
import { findTagged } from '../../agent/faults/tagged-process.ts';
import { isAlive } from '../../agent/test-support/proc-stats.ts';
import type { AgentTarget } from '../../protocol/agent-wire.ts';
import {
  docker,
  ensureDockerTestEnv,
  removeTestObjects,
  startTestContainer,
  TEST_LABEL,
} from './docker-env.ts';
import { createNetnsLab } from './netns-lab.ts';

/**
 * Test support for the agent fault conformance suite: a target of the kind each fault acts on,
 * and a snapshot of everything of ours there, so "revert returns to the start" can be checked the
 * same way for every fault. Network faults get a namespace the test makes (never the host's),
 * docker faults a container of the test image, the others the host.
 */
export interface ConformanceTarget {
  target: AgentTarget;
  /** What the fault could have changed, as comparable JSON. */
  snapshot(): Promise<unknown>;
  /** True once the fault visibly acted (a snapshot differs, or the victim died). */
  changedSince(before: unknown): Promise<boolean>;
  cleanup(): Promise<void>;
}

export type TargetFamily = 'host' | 'container' | 'netns';

/** Network faults take `netns` and run there; faults that take `host` run on the host; the rest on a container. */
export function familyOf(fault: AnyAgentFault): TargetFamily {
  if (fault.targets.includes('netns')) return 'netns';
  if (fault.targets.includes('host')) return 'host';
  return 'container';
}

export interface HostTargetOptions {
  agentId: string;
  faultId: string;
  /** A program whose name process-kill's example matches; it is started as the victim. */
  victimPath: string;
}

/** The host: tagged worker processes and fill files of ours, and a victim process to kill. */
export function hostTarget(opts: HostTargetOptions): ConformanceTarget {
  const victim: ChildProcess = spawn(opts.victimPath, ['30'], { stdio: 'ignore' });
  const snapshot = async () => ({
    processes: findTagged({ agentId: opts.agentId }).length,
    files: readdirSync(tmpdir()).filter((f) => f === `.faultline-fill-${opts.faultId}`),
  });
  return {
    target: 'host',
    snapshot,
    async changedSince(before) {
      return JSON.stringify(await snapshot()) !== JSON.stringify(before) || !isAlive(victim.pid!);
    },
    async cleanup() {
      if (victim.exitCode === null && victim.signalCode === null) victim.kill('SIGKILL');
    },
  };
}

/**
 * Limits that mean "none": 0, -1, and the kernel's no-limit byte count (2^63 - 4096, above 2^53, so
 * compared by size), which docker-resources restores a 0 limit as (engine 20.10 cannot set 0 back).
 */
const isNoLimit = (n: number) => n === 0 || n === -1 || n > 2 ** 62;

/** A container of the test image on a network named `faultline-example` (docker-network-disconnect's example). */
export async function containerTarget(tag: string): Promise<ConformanceTarget> {
  await ensureDockerTestEnv();
  const network = 'faultline-example';
  const existing = await docker.listNetworks({ filters: { name: [network] } });
  if (!existing.some((n) => n.Name === network)) {
    await docker.createNetwork({ Name: network, Driver: 'bridge', Labels: { [TEST_LABEL]: tag } });
  }
  const c = await startTestContainer({ tag, network });
  const state = async () => {
    const info = await docker.getContainer(c.id).inspect();
    const limit = (n: number | undefined) => (isNoLimit(n ?? 0) ? 0 : n);
    return {
      running: info.State.Running,
      paused: info.State.Paused,
      memory: limit(info.HostConfig.Memory),
      nanoCpus: limit(info.HostConfig.NanoCpus),
      cpuQuota: limit(info.HostConfig.CpuQuota),
      networks: Object.keys(info.NetworkSettings.Networks).sort(),
      startedAt: info.State.StartedAt,
    };
  };
  // A revert that starts a container again gives it a new start time: not part of "the start",
  // but a changed start time is how docker-restart's (already finished) effect shows.
  const startedFirst = (await state()).startedAt;
  const snapshot = async () => ({ ...(await state()), startedAt: undefined });
  return {
    target: `container:${c.name}`,
    snapshot,
    async changedSince(before) {
      const { startedAt } = await state();
      return JSON.stringify(await snapshot()) !== JSON.stringify(before) || startedAt !== startedFirst;
    },
    cleanup: () => removeTestObjects(tag),
  };
}

/** A namespace of a test-made lab: iptables rules and root qdiscs there. */
export function netnsTarget(): ConformanceTarget {
  const lab = createNetnsLab();
  const snapshot = async () => ({
    rules: lab.exec(lab.nsA, ['iptables', '-S']),
    qdiscs: lab
      .exec(lab.nsA, ['tc', 'qdisc', 'show'])
      .split('\n')
      .filter((l) => l.includes(' root ')),
  });
  return {
    target: `netns:${lab.nsA}`,
    snapshot,
    async changedSince(before) {
      return JSON.stringify(await snapshot()) !== JSON.stringify(before);
    },
    cleanup: () => lab.cleanup(),
  };
}
