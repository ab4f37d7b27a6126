/** Formatting of bench figures for the console and RESULTS.md (the same Markdown for both). */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Value at quantile q (0-1) of unsorted samples, nearest-rank. */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** µs → `45 µs` or `1.23 ms`. */
export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return 'n/a';
  if (Math.abs(us) < 1_000) return `${Math.round(us)} µs`;
  return `${(us / 1_000).toFixed(2)} ms`;
}

export function fmtMs(ms: number, digits = 2): string {
  return Number.isFinite(ms) ? `${ms.toFixed(digits)} ms` : 'n/a';
}

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? r.toFixed(2) : 'n/a';
}

export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** One target from the spec, with the measured value and whether it was met. */
export interface TargetCheck {
  what: string;
  measured: string;
  target: string;
  /** undefined = could not be measured in this run. */
  met: boolean | undefined;
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  return markdownTable(
    ['target', 'measured', 'goal', 'verdict'],
    checks.map((c) => [
      c.what,
      c.measured,
      c.target,
      c.met === undefined ? 'not measured' : c.met ? 'met' : 'MISSED',
    ]),
  );
}
