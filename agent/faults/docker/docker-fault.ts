import type Docker from 'dockerode';
import type { z } from 'zod';
import type { AgentTarget } from '../../../protocol/agent-wire.ts';
import { FaultlineError, isFaultlineError } from '../../../protocol/errors.ts';
import type { DockerAdapter } from '../../adapters/docker.ts';
import type { ContainerSelect } from '../../adapters/docker-select.ts';
import type { AgentFault, AgentFaultContext, Receipt, SweepContext } from '../agent-fault.ts';
import {
  type DockerPlan,
  leftoverPlans,
  PlanRecipe,
  planFile,
  readPlan,
  removePlan,
  writePlan,
} from './docker-plan.ts';

/** A container as a docker fault sees it: its ref and the engine's inspect. */
export interface Seen {
  id: string;
  name: string;
  info: Docker.ContainerInspectInfo;
}

/** What one docker fault type adds to the shared apply / revert / sweep. */
export interface DockerFaultSpec<P extends { select?: ContainerSelect }, B> {
  type: string;
  summary: string;
  params: z.ZodType<P>;
  example: P;
  /** Schema of the per-container state recorded before acting (read back from the plan). */
  before: z.ZodType<B>;
  /** The state to record before acting on this container, or `{ skip: reason }` to leave it alone. */
  record(seen: Seen, params: P, docker: DockerAdapter): Promise<B | { skip: string }> | B | { skip: string };
  /** Acts on one container. */
  act(seen: Seen, params: P, before: B, docker: DockerAdapter): Promise<void>;
  /**
   * Puts one container back as `before` says; idempotent (it may already be back).
   * `applyMayBeRunning`: apply is not known to have finished (a revert from the undo recipe after
   * the agent died, a sweep, a failed apply), so an engine operation it started may still be running.
   */
  restore(seen: Seen, before: B, docker: DockerAdapter, applyMayBeRunning: boolean): Promise<void>;
}

function isSkip(x: unknown): x is { skip: string } {
  return typeof x === 'object' && x !== null && 'skip' in x && Object.keys(x).length === 1;
}

/** Reverts from a plan file; shared by revert (receipt or undo recipe) and sweep. */
async function revertPlan<B>(
  file: string,
  spec: Pick<DockerFaultSpec<never, B>, 'before' | 'restore'>,
  docker: DockerAdapter,
  applyMayBeRunning: boolean,
): Promise<'reverted' | 'vanished'> {
  const plan = readPlan(file);
  if (!plan) return 'vanished';
  let present = 0;
  for (const c of plan.containers) {
    const info = await docker.inspect(c.id);
    if (!info) continue; // removed since: nothing of ours left on it
    present++;
    await spec.restore(
      { id: c.id, name: c.name, info },
      spec.before.parse(c.before),
      docker,
      applyMayBeRunning,
    );
  }
  removePlan(file);
  return present > 0 ? 'reverted' : 'vanished';
}

/**
 * Builds a docker fault from its spec. Apply resolves the target's containers, inspects each,
 * writes the plan durably, then acts; revert restores every container the plan lists that still
 * exists. Containers that vanished are skipped; when all did, revert resolves `vanished`.
 */
export function dockerFault<P extends { select?: ContainerSelect }, B>(
  spec: DockerFaultSpec<P, B>,
): AgentFault<P> {
  const byPlan = (file: string, ctx: AgentFaultContext | SweepContext, applyMayBeRunning = true) =>
    revertPlan(file, spec, ctx.adapters.docker, applyMayBeRunning);
  return {
    type: spec.type,
    targets: ['container', 'containers'],
    summary: spec.summary,
    params: spec.params,
    example: spec.example,
    undo: (_target, _params, ctx) => ({ plan: planFile(ctx.stateDir, ctx.faultId) }),
    async apply(target: AgentTarget, params: P, ctx) {
      const { docker } = ctx.adapters;
      const file = planFile(ctx.stateDir, ctx.faultId);
      const refs = await docker.resolve(target, params.select, ctx.faultId);
      const plan: DockerPlan = { faultId: ctx.faultId, type: spec.type, containers: [], skipped: [] };
      const seen: Seen[] = [];
      for (const ref of refs) {
        const info = await docker.inspect(ref.id);
        if (!info) {
          plan.skipped.push({ ...ref, reason: 'removed' });
          continue;
        }
        const before = await spec.record({ ...ref, info }, params, docker);
        if (isSkip(before)) plan.skipped.push({ ...ref, reason: before.skip });
        else {
          plan.containers.push({ ...ref, before });
          seen.push({ ...ref, info });
        }
      }
      if (plan.containers.length === 0) {
        const why = plan.skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
        throw new FaultlineError(
          'FAULT_APPLY_FAILED',
          `${spec.type} has nothing to act on in ${target} (${why})`,
          {
            target,
            skipped: plan.skipped,
          },
        );
      }
      writePlan(file, plan);
      try {
        for (const [i, s] of seen.entries())
          await spec.act(s, params, spec.before.parse(plan.containers[i]!.before), docker);
      } catch (err) {
        await byPlan(file, ctx).catch(() => {}); // on failure the plan stays: the next start's sweep retries
        if (isFaultlineError(err)) throw err;
        throw new FaultlineError(
          'FAULT_APPLY_FAILED',
          `${spec.type}: ${(err as Error).message}`,
          { target },
          { cause: err },
        );
      }
      return { plan: file, containers: plan.containers, skipped: plan.skipped };
    },
    async revert(receipt: Receipt, ctx) {
      // A receipt (it lists the containers) means apply finished; the bare undo recipe does not.
      return byPlan(PlanRecipe.parse(receipt).plan, ctx, !('containers' in receipt));
    },
    async sweep(ctx) {
      // Runs at start after every open ledger entry was replayed: a plan still here belongs to no
      // active fault (its revert failed, or the ledger was lost), so restoring it is always right.
      let swept = 0;
      for (const file of leftoverPlans(ctx.stateDir)) {
        try {
          if (readPlan(file)?.type !== spec.type) continue;
          if ((await byPlan(file, ctx)) === 'reverted') swept++;
        } catch {
          // Engine down or a torn file: the plan stays for the next start; the agent still starts.
        }
      }
      return swept;
    },
  };
}
