import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Parses `500ms`, `10s`, `2m`, `1h` (or a plain number of milliseconds) into milliseconds. */
export function parseDurationMs(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input : undefined;
  const m = DURATION_RE.exec(input.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** A duration written as `500ms`, `10s`, `2m`, `1h` or a number of ms; parsed to ms. */
export const Duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDurationMs(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration like 500ms, 10s or 2m, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});
