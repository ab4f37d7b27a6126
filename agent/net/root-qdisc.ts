import { z } from 'zod';
import { FaultlineError } from '../../protocol/errors.ts';
import { mustRunIn, type Netns, runIn } from './netns.ts';

/**
 * Root qdiscs of ours (tbf for bandwidth, netem for latency) carry a handle major from
 * `fa00:`–`faff:`, fixed per agent (picked from its id), so a sweep finds this agent's and leaves
 * other agents' alone (two agent ids share a major with chance 1/256; they then sweep each other's
 * qdiscs, never anyone else's).
 */
export function qdiscHandle(agentId: string): string {
  // FNV-1a, 32 bit: stable across processes and versions, unlike anything seeded.
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(agentId, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return `${(0xfa00 + (h % 0x100)).toString(16)}:`;
}

/** Network interface names: at most 15 bytes, no slash, colon or white space. */
export const DeviceName = z.string().regex(/^[^\s/:]{1,15}$/, 'expected a network interface name');

export interface RootQdisc {
  kind: string;
  /** `0:` for the kernel's default qdisc (noqueue, pfifo_fast, mq, fq_codel). */
  handle: string;
}

/** `qdisc tbf fa12: root refcnt 2 rate ...` → kind and handle; undefined for anything else. */
export function parseQdiscLine(line: string): (RootQdisc & { device?: string; root: boolean }) | undefined {
  const m = /^qdisc (\S+) ([0-9a-f]+:)(?: dev (\S+))?(.*)$/.exec(line.trim());
  if (!m) return undefined;
  return { kind: m[1]!, handle: m[2]!, device: m[3], root: /\broot\b/.test(m[4]!) };
}

/** The device of the namespace's default route (IPv4, then IPv6), or `lo` when it has none. */
export async function defaultDevice(ns: Netns): Promise<string> {
  for (const family of ['-4', '-6']) {
    const r = await runIn(ns, ['ip', family, '-o', 'route', 'show', 'default']);
    const m = / dev (\S+)/.exec(r.stdout);
    if (r.code === 0 && m) return m[1]!;
  }
  return 'lo';
}

/** The MTU of `device`, bytes (`lo` has 65536); FAULT_APPLY_FAILED when there is no such device. */
export async function deviceMtu(ns: Netns, device: string): Promise<number> {
  const out = await mustRunIn(ns, ['ip', '-o', 'link', 'show', 'dev', device]);
  const m = / mtu (\d+)/.exec(out);
  if (!m) throw new FaultlineError('FAULT_APPLY_FAILED', `no MTU for ${device} in ${ns.label}`, { device });
  return Number(m[1]);
}

/** The root qdisc of `device`, or undefined when the device does not exist. */
export async function readRootQdisc(ns: Netns, device: string): Promise<RootQdisc | undefined> {
  const r = await runIn(ns, ['tc', 'qdisc', 'show', 'dev', device, 'root']);
  if (r.code !== 0) {
    if (/Cannot find device|does not exist/.test(r.stderr)) return undefined;
    throw new FaultlineError('FAULT_APPLY_FAILED', `tc in ${ns.label} exited ${r.code}: ${r.stderr.trim()}`, {
      netns: ns.label,
      device,
    });
  }
  const q = parseQdiscLine(r.stdout.split('\n')[0] ?? '');
  return q && { kind: q.kind, handle: q.handle };
}

/**
 * Puts `qdisc` (e.g. `['tbf', 'rate', '2000kbit', ...]`) as the root of `device` with our handle.
 * Refuses with CONFLICT when the device already has a root qdisc someone configured (any handle
 * but the kernel default's `0:`, ours included): replacing it would lose their shaping, and
 * restoring an arbitrary qdisc tree exactly from `tc` output is not reliable. Deleting ours later
 * brings the kernel default back, which is exactly what was there.
 */
export async function addRootQdisc(
  ns: Netns,
  device: string,
  handle: string,
  qdisc: readonly string[],
): Promise<void> {
  const root = await readRootQdisc(ns, device);
  if (!root) {
    throw new FaultlineError('FAULT_APPLY_FAILED', `no device ${device} in ${ns.label}`, {
      netns: ns.label,
      device,
    });
  }
  if (root.handle !== '0:') {
    const whose = root.handle === handle ? 'another fault of this agent' : 'someone';
    throw new FaultlineError(
      'CONFLICT',
      `${device} in ${ns.label} already has a root qdisc ${root.kind} ${root.handle} (set by ${whose}); Faultline only replaces the kernel default`,
      { netns: ns.label, device, qdisc: root.kind, handle: root.handle },
    );
  }
  await mustRunIn(ns, ['tc', 'qdisc', 'add', 'dev', device, 'root', 'handle', handle, ...qdisc]);
}

/**
 * Deletes our root qdisc from `device`; the kernel puts its default back. `missing` when the device
 * is gone or its root is not ours. A failure to delete throws FAULT_REVERT_FAILED.
 */
export async function removeRootQdisc(
  ns: Netns,
  device: string,
  handle: string,
): Promise<'deleted' | 'missing'> {
  const root = await readRootQdisc(ns, device).catch(() => undefined);
  if (root?.handle !== handle) return 'missing';
  const r = await runIn(ns, ['tc', 'qdisc', 'del', 'dev', device, 'root', 'handle', handle]);
  if (r.code === 0) return 'deleted';
  if (/Cannot find device|Invalid handle|No such file/.test(r.stderr)) return 'missing';
  throw new FaultlineError(
    'FAULT_REVERT_FAILED',
    `tc qdisc del in ${ns.label} exited ${r.code}: ${r.stderr.trim()}`,
    {
      netns: ns.label,
      device,
      handle,
    },
  );
}

/** Devices in `ns` whose root qdisc has `handle`. */
export async function devicesWithRoot(ns: Netns, handle: string): Promise<string[]> {
  const r = await runIn(ns, ['tc', 'qdisc', 'show']);
  if (r.code !== 0) return [];
  const devices: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const q = parseQdiscLine(line);
    if (q?.root && q.handle === handle && q.device) devices.push(q.device);
  }
  return devices;
}

/** Deletes every root qdisc with this agent's handle in `ns`; resolves how many. */
export async function sweepRootQdiscs(ns: Netns, handle: string): Promise<number> {
  let removed = 0;
  for (const device of await devicesWithRoot(ns, handle)) {
    if ((await removeRootQdisc(ns, device, handle).catch(() => 'missing')) === 'deleted') removed++;
  }
  return removed;
}
