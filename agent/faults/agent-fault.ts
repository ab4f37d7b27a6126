import type { z } from 'zod';
import type { AgentTarget, AgentTargetKind } from '../../protocol/agent-wire.ts';
import type { DockerAdapter } from '../adapters/docker.ts';
import type { BackgroundTasks } from './background-tasks.ts';

/** JSON an agent fault returns from `apply` and gets back in `revert`; written to the ledger. */
export type Receipt = Record<string, unknown>;

/** What every agent fault call gets. */
export interface AgentFaultContext {
  /** The fault's id; every thing the fault creates is tagged with it. */
  faultId: string;
  /** The agent's id; sweeps only touch leftovers tagged with it, so agents on one host stay apart. */
  agentId: string;
  /** The agent's state directory (ledger, control socket). */
  stateDir: string;
  /** Work that lives inside the agent process for an active fault (intervals), stopped on revert. */
  background: BackgroundTasks;
  /** Clients of outside systems, built once by the agent; they connect on first use, not before. */
  adapters: AgentAdapters;
}

/** The agent's clients of outside systems, passed to every fault. */
export interface AgentAdapters {
  docker: DockerAdapter;
}

/** What `sweep` gets: no fault id, it looks for every leftover of ours. */
export type SweepContext = Omit<AgentFaultContext, 'faultId'>;

/** `reverted`: undone now. `vanished`: nothing of ours was there any more (recorded once, not retried). */
export type RevertOutcome = 'reverted' | 'vanished';

/**
 * One agent fault type. One file per type exports one of these; `registry.ts` maps names to them.
 * A fault acts on one target; selection, fan-out, duration and leases belong to the runtime.
 */
export interface AgentFault<P = unknown> {
  /** Name used on the wire and in experiments, e.g. `memory-leak`. */
  readonly type: string;
  /** One line for docs and the advertised fault list. */
  readonly summary: string;
  /** Strict zod schema of the parameters; units in names (`rateMbPerSec`). */
  readonly params: z.ZodType<P>;
  /**
   * Target kinds this fault acts on (`host`, `pid`, `container`, ...); the runtime refuses the
   * others with INVALID_INPUT before anything is written or done.
   */
  readonly targets: readonly AgentTargetKind[];
  /** Valid parameters with a visible effect within ~1 s, small enough for a test machine. */
  readonly example: P;
  /**
   * The undo recipe, written to the ledger (fsync) before `apply` acts: a receipt that `revert`
   * can undo from even when the agent died halfway through `apply`. Pure; no side effects.
   */
  undo(target: AgentTarget, params: P, ctx: AgentFaultContext): Receipt;
  /** Acts; returns what it did. Throws FaultlineError FAULT_APPLY_FAILED after undoing its own partial work. */
  apply(target: AgentTarget, params: P, ctx: AgentFaultContext): Promise<Receipt>;
  /** Undoes from a receipt or an undo recipe. Idempotent; a vanished target resolves `vanished`. */
  revert(receipt: Receipt, ctx: AgentFaultContext): Promise<RevertOutcome>;
  /** Finds and removes leftovers tagged as ours (after a crash); resolves how many it removed. */
  sweep?(ctx: SweepContext): Promise<number>;
}

/** A registry entry: params differ per type, and each entry validates its own with `params`. */
// biome-ignore lint/suspicious/noExplicitAny: the one place the params type is erased.
export type AnyAgentFault = AgentFault<any>;
