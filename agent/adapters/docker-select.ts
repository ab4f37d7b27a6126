import { z } from 'zod';
import { FaultlineError } from '../../protocol/errors.ts';
import { hash32, seededRandom } from '../../protocol/seeded-random.ts';

/**
 * Which of the containers a `containers:k=v` target matches a fault acts on. Without it: all.
 * The choice is seeded, so the same seed over the same containers picks the same ones again.
 */
export const ContainerSelect = z
  .strictObject({
    /** Act on this many of the matching containers (fewer when fewer match). */
    count: z.number().int().positive().optional(),
    /** Act on this percent (0-100, rounded up, at least one) of the matching containers. */
    percent: z.number().gt(0).max(100).optional(),
    /** Seed of the choice. Default: derived from the fault id, so a replay picks the same ones. */
    seed: z.number().int().optional(),
  })
  .refine((s) => s.count === undefined || s.percent === undefined, {
    message: 'give count or percent, not both',
  });
export type ContainerSelect = z.infer<typeof ContainerSelect>;

/** The labels of a `containers:k=v,k2=v2` target. */
export function parseLabelSelector(selector: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of selector.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new FaultlineError('INVALID_INPUT', `bad label selector ${selector}`, { selector });
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

/** A stable default seed from a fault id, so a replay of the same fault picks the same containers. */
export function seedOf(faultId: string): number {
  return hash32(faultId);
}

/**
 * Picks `select.count` (or `select.percent`) of `ids` with a seeded shuffle. Ids are sorted first,
 * so the engine's listing order does not change the choice.
 */
export function selectIds(
  ids: readonly string[],
  select: ContainerSelect | undefined,
  seed: number,
): string[] {
  const sorted = [...ids].sort();
  const n =
    select?.count !== undefined
      ? Math.min(select.count, sorted.length)
      : select?.percent !== undefined
        ? Math.min(sorted.length, Math.max(1, Math.ceil((sorted.length * select.percent) / 100)))
        : sorted.length;
  const next = seededRandom(seed);
  for (let i = sorted.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [sorted[i], sorted[j]] = [sorted[j]!, sorted[i]!];
  }
  return sorted.slice(0, n).sort();
}
