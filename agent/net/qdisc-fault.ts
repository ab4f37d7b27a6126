import { z } from 'zod';
import { AgentTarget } from '../../protocol/agent-wire.ts';
import type { AgentFaultContext, Receipt, RevertOutcome, SweepContext } from '../faults/agent-fault.ts';
import { allNetns } from './all-netns.ts';
import { netnsForApply, resolveNetns } from './netns.ts';
import {
  addRootQdisc,
  DeviceName,
  defaultDevice,
  deviceMtu,
  qdiscHandle,
  removeRootQdisc,
  sweepRootQdiscs,
} from './root-qdisc.ts';

/**
 * A root qdisc fault's undo recipe and receipt. `device` is absent from a recipe when the fault
 * picks the namespace's default-route device at apply time; revert then looks it up again.
 */
export const QdiscReceipt = z.strictObject({
  target: AgentTarget,
  device: DeviceName.optional(),
  handle: z.string().regex(/^fa[0-9a-f]{2}:$/),
});
export type QdiscReceipt = z.infer<typeof QdiscReceipt>;

/**
 * Which active fault of this process put our root qdisc on a device (`<target> <device>` → fault
 * id). An apply refused because the device already carries our qdisc is followed by a revert from
 * its undo recipe; this map keeps that revert from deleting the other fault's qdisc. After a crash
 * the map is empty and replay deletes from recipes, which is right: every qdisc of ours then
 * belongs to a fault being reverted.
 */
const owners = new Map<string, string>();

/** The recipe: what revert needs even when apply never finished. Pure. */
export function qdiscUndo(
  target: AgentTarget,
  device: string | undefined,
  ctx: AgentFaultContext,
): QdiscReceipt {
  return { target, device, handle: qdiscHandle(ctx.agentId) };
}

/**
 * Puts the qdisc `build` gives (from the device's MTU, bytes) as the root of `device` (default: the
 * default-route device, else `lo`) in the target's namespace.
 */
export async function applyQdisc(
  target: AgentTarget,
  device: string | undefined,
  build: (mtuBytes: number) => readonly string[],
  ctx: AgentFaultContext,
): Promise<QdiscReceipt> {
  const ns = await netnsForApply(target, ctx.adapters);
  const dev = device ?? (await defaultDevice(ns));
  const handle = qdiscHandle(ctx.agentId);
  await addRootQdisc(ns, dev, handle, build(await deviceMtu(ns, dev)));
  owners.set(`${target} ${dev}`, ctx.faultId);
  return { target, device: dev, handle };
}

/** Deletes our root qdisc; the kernel default comes back. `vanished` when it was not there. */
export async function revertQdisc(receipt: Receipt, ctx: AgentFaultContext): Promise<RevertOutcome> {
  const { target, device, handle } = QdiscReceipt.parse(receipt);
  const ns = await resolveNetns(target, ctx.adapters);
  if (!ns) return 'vanished';
  const dev = device ?? (await defaultDevice(ns));
  const key = `${target} ${dev}`;
  const owner = owners.get(key);
  if (owner !== undefined && owner !== ctx.faultId) return 'vanished';
  const outcome = await removeRootQdisc(ns, dev, handle);
  owners.delete(key);
  return outcome === 'deleted' ? 'reverted' : 'vanished';
}

/** Removes every root qdisc with this agent's handle, in every namespace on the host. */
export async function sweepAllQdiscs(ctx: SweepContext): Promise<number> {
  const handle = qdiscHandle(ctx.agentId);
  let removed = 0;
  for (const ns of allNetns()) removed += await sweepRootQdiscs(ns, handle);
  return removed;
}
