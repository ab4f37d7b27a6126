import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AgentTarget } from '../../protocol/agent-wire.ts';
import { FaultlineError } from '../../protocol/errors.ts';
import type { AgentAdapters } from '../faults/agent-fault.ts';

/**
 * A network namespace a command runs in, resolved from a target: the argv prefix that enters it
 * (`ip netns exec NAME`, `nsenter --net=/proc/N/ns/net`, nothing for the host) and a label for
 * messages. Containers resolve to their init pid each time, so a restarted container is entered
 * in its new namespace.
 */
export interface Netns {
  label: string;
  prefix: readonly string[];
}

export const HOST_NETNS: Netns = { label: 'host', prefix: [] };

/** Where `ip netns add` keeps its named namespaces. */
export const NETNS_DIR = '/var/run/netns';

/** A finished command: exit code (null when killed by the timeout), stdout and stderr. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How long one iptables/tc/ip command may take, ms; iptables waits up to 5 s for the xtables lock. */
const COMMAND_TIMEOUT_MS = 15_000;

/** Runs `argv` inside `ns`; never throws for a non-zero exit, the caller reads `code` and `stderr`. */
export function runIn(ns: Netns, argv: readonly string[]): Promise<CommandResult> {
  const [file, ...args] = [...ns.prefix, ...argv];
  return new Promise((resolve) => {
    execFile(file!, args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      if (err && code === null && stderr === '') stderr = err.message; // spawn failed (ENOENT) or timed out
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `argv` inside `ns` and resolves stdout; a non-zero exit throws FAULT_APPLY_FAILED with stderr. */
export async function mustRunIn(ns: Netns, argv: readonly string[]): Promise<string> {
  const r = await runIn(ns, argv);
  if (r.code !== 0) {
    throw new FaultlineError(
      'FAULT_APPLY_FAILED',
      `${argv[0]} in ${ns.label} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`,
      { netns: ns.label, argv, exitCode: r.code },
    );
  }
  return r.stdout;
}

function pidNetns(pid: number, label: string): Netns | undefined {
  const path = `/proc/${pid}/ns/net`;
  return existsSync(path) ? { label, prefix: ['nsenter', `--net=${path}`, '--'] } : undefined;
}

/**
 * The namespace of `target`, or undefined when it is gone (named namespace deleted, process
 * exited, container removed or stopped): then nothing of ours can be left in it either.
 * `host` is the agent's own namespace.
 */
export async function resolveNetns(
  target: AgentTarget,
  adapters: AgentAdapters | undefined,
): Promise<Netns | undefined> {
  if (target === 'host') return HOST_NETNS;
  const sep = target.indexOf(':');
  const kind = target.slice(0, sep);
  const value = target.slice(sep + 1);
  if (kind === 'netns') {
    return existsSync(`${NETNS_DIR}/${value}`)
      ? { label: target, prefix: ['ip', 'netns', 'exec', value] }
      : undefined;
  }
  if (kind === 'pid') return pidNetns(Number(value), target);
  if (kind === 'container') {
    if (!adapters) {
      throw new FaultlineError('UNSUPPORTED', 'container targets need the agent docker adapter', { target });
    }
    const info = await adapters.docker.inspect(value);
    if (!info?.State.Running || !info.State.Pid) return undefined;
    return pidNetns(info.State.Pid, target);
  }
  throw new FaultlineError('INVALID_INPUT', `network faults cannot act on ${target}`, { target });
}

/**
 * Like {@link resolveNetns}, but a missing namespace is FAULT_APPLY_FAILED (there is nothing to act
 * on); for a container the engine's reason (no such container, not running) is the message.
 */
export async function netnsForApply(
  target: AgentTarget,
  adapters: AgentAdapters | undefined,
): Promise<Netns> {
  if (target.startsWith('container:') && adapters) {
    const ns = pidNetns(await adapters.docker.containerPid(target.slice('container:'.length)), target);
    if (ns) return ns;
  }
  const ns = await resolveNetns(target, adapters);
  if (!ns) {
    throw new FaultlineError('FAULT_APPLY_FAILED', `the network namespace of ${target} does not exist`, {
      target,
    });
  }
  return ns;
}
