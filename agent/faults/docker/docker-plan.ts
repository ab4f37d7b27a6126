import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * The plan of one docker fault: which containers it acts on and each one's state before, written
 * (fsync, rename, fsync of the directory) BEFORE the first container is touched. The ledger's undo
 * recipe only names this file (undo() is pure and cannot ask the engine), so a revert after a
 * kill -9 halfway through apply reads what to restore from here. Revert removes it; a missing
 * plan means nothing of ours is left (`vanished`).
 */

export const PLAN_DIR = 'docker-faults';

export const PlanContainer = z.object({
  id: z.string(),
  name: z.string(),
  /** The fault's own record of this container before it acted (its schema is the fault's). */
  before: z.unknown(),
});
export type PlanContainer = z.infer<typeof PlanContainer>;

export const DockerPlan = z.object({
  faultId: z.string(),
  type: z.string(),
  containers: z.array(PlanContainer),
  /** Containers the target matched that the fault left alone, and why (not running, not connected). */
  skipped: z.array(z.object({ id: z.string(), name: z.string(), reason: z.string() })),
});
export type DockerPlan = z.infer<typeof DockerPlan>;

/** The undo recipe of every docker fault: where its plan is. */
export const PlanRecipe = z.object({ plan: z.string() });

/** Absolute, so a recipe in the ledger still names it when the agent restarts from another cwd. */
export function planFile(stateDir: string, faultId: string): string {
  return resolve(stateDir, PLAN_DIR, `${faultId}.json`);
}

function fsyncPath(path: string, flags: string): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes the plan durably: after this returns, a crash leaves the whole plan or none of it. */
export function writePlan(file: string, plan: DockerPlan): void {
  const dir = join(file, '..');
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(plan));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  fsyncPath(dir, 'r');
}

/** The plan, or undefined when there is none (never written, or already reverted). */
export function readPlan(file: string): DockerPlan | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return DockerPlan.parse(JSON.parse(text));
}

export function removePlan(file: string): void {
  rmSync(file, { force: true });
}

/** Every plan file left in this agent's state dir (a `.tmp` is a plan never completed: nothing acted). */
export function leftoverPlans(stateDir: string): string[] {
  const dir = join(stateDir, PLAN_DIR);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  for (const n of names) if (n.endsWith('.tmp')) rmSync(join(dir, n), { force: true });
  return names.filter((n) => n.endsWith('.json')).map((n) => join(dir, n));
}
