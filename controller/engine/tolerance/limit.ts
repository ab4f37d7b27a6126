import type { Limit } from '../../../protocol/experiment-tolerance.ts';

/** A limit resolved to a number, and how to say it in a reason (`300` or `360 (1.2x baseline 300)`). */
export type ResolvedLimit = { value: number; text: string } | { error: string };

/** Turns a schema `Limit` into a number, multiplying relative limits by the baseline figure. */
export function resolveLimit(limit: Limit, baselineFigure: number | undefined, unit = ''): ResolvedLimit {
  if (typeof limit === 'number') return { value: limit, text: `${fmt(limit)}${unit}` };
  if (baselineFigure === undefined) return { error: `no baseline to take ${limit.factor}x of` };
  const value = limit.factor * baselineFigure;
  return { value, text: `${fmt(value)}${unit} (${limit.factor}x baseline ${fmt(baselineFigure)}${unit})` };
}

/** Numbers in reasons: at most 3 decimals, no trailing zeros. */
export function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(3)));
}
