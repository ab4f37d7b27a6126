import { isDeepStrictEqual } from 'node:util';
import { JSONPath } from 'jsonpath-plus';
import type { Tolerance } from '../../../protocol/experiment-tolerance.ts';
import type { ProbeSample } from '../probes/probe.ts';
import type { Baseline } from './baseline.ts';
import { fmt, resolveLimit } from './limit.ts';

/** What the tolerance checks found: failure reasons (empty = pass) and the figures they looked at. */
export interface CheckResult {
  reasons: string[];
  observed: Record<string, number | string>;
}

/** `*` matches any run of characters; everything else is literal; the whole value must match. */
export function globMatches(glob: string, value: string): boolean {
  const re = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${re}$`, 's').test(value);
}

function short(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

function checkStatus(tol: Tolerance, s: ProbeSample, out: CheckResult): void {
  if (s.status === undefined) return;
  out.observed.status = s.status;
  if (tol.status === undefined) {
    // No expectation written: any 2xx or 3xx answer is healthy.
    if (s.status >= 400) out.reasons.push(`status ${s.status}, expected 2xx or 3xx`);
    return;
  }
  const allowed = Array.isArray(tol.status) ? tol.status : [tol.status];
  if (!allowed.includes(s.status)) out.reasons.push(`status ${s.status}, expected ${allowed.join(' or ')}`);
}

function checkBody(tol: Tolerance, s: ProbeSample, out: CheckResult): void {
  const body = tol.body;
  if (!body) return;
  const text = s.body ?? '';
  if (body.regex !== undefined && !new RegExp(body.regex).test(text)) {
    out.reasons.push(`body does not match /${body.regex}/: ${JSON.stringify(short(text))}`);
  }
  if (body.jsonPath === undefined) return;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    out.reasons.push(`body is not JSON, cannot read ${body.jsonPath}: ${JSON.stringify(short(text))}`);
    return;
  }
  const matches = JSONPath({ path: body.jsonPath, json: json as object, wrap: true }) as unknown[];
  const selected = matches.length === 1 ? matches[0] : matches;
  out.observed[body.jsonPath] = short(JSON.stringify(selected) ?? 'undefined');
  if (matches.length === 0) {
    out.reasons.push(`${body.jsonPath} selects nothing in the body`);
  } else if (body.equals !== undefined && !isDeepStrictEqual(selected, body.equals)) {
    out.reasons.push(
      `${body.jsonPath} is ${short(JSON.stringify(selected))}, expected ${JSON.stringify(body.equals)}`,
    );
  }
}

function checkHeaders(tol: Tolerance, s: ProbeSample, out: CheckResult): void {
  for (const [name, glob] of Object.entries(tol.headers ?? {})) {
    const value = s.headers?.[name.toLowerCase()];
    if (value === undefined) out.reasons.push(`header ${name} is missing, expected ${JSON.stringify(glob)}`);
    else if (!globMatches(glob, value))
      out.reasons.push(`header ${name} is ${JSON.stringify(value)}, expected ${JSON.stringify(glob)}`);
  }
}

function checkCommand(tol: Tolerance, s: ProbeSample, out: CheckResult): void {
  if (s.kind !== 'command') return;
  out.observed.exitCode = s.exitCode === null || s.exitCode === undefined ? 'signal' : s.exitCode;
  // No expectation written: the command must exit 0.
  const allowed =
    tol.exitCode === undefined ? [0] : Array.isArray(tol.exitCode) ? tol.exitCode : [tol.exitCode];
  if (s.exitCode === null || s.exitCode === undefined || !allowed.includes(s.exitCode)) {
    out.reasons.push(`exit code ${out.observed.exitCode}, expected ${allowed.join(' or ')}`);
  }
  if (tol.stdout && !new RegExp(tol.stdout.regex).test(s.stdout ?? '')) {
    out.reasons.push(`stdout does not match /${tol.stdout.regex}/: ${JSON.stringify(short(s.stdout ?? ''))}`);
  }
}

function checkValue(
  tol: Tolerance,
  s: ProbeSample,
  baseline: Baseline | undefined,
  out: CheckResult,
  skipRelative: boolean,
): void {
  const bounds = tol.value;
  if (!bounds) return;
  if (s.value === undefined) {
    out.reasons.push('the probe returned no value to check');
    return;
  }
  out.observed.value = s.value;
  if (bounds.equals !== undefined && s.value !== bounds.equals) {
    out.reasons.push(`value ${fmt(s.value)}, expected exactly ${fmt(bounds.equals)}`);
  }
  for (const side of ['min', 'max'] as const) {
    const limit = bounds[side];
    if (limit === undefined || (skipRelative && typeof limit !== 'number')) continue;
    const r = resolveLimit(limit, baseline?.value);
    if ('error' in r) out.reasons.push(`value ${side}: ${r.error}`);
    else if (side === 'min' ? s.value < r.value : s.value > r.value) {
      out.reasons.push(`value ${fmt(s.value)} ${side === 'min' ? '<' : '>'} ${side} ${r.text}`);
    }
  }
}

/**
 * Checks one sample on its own: transport success, status, body (regex, JSONPath), headers,
 * exit code and stdout, value bounds. Window figures (latency quantiles, error rate) are not here.
 */
export function checkSample(
  tol: Tolerance,
  s: ProbeSample,
  baseline: Baseline | undefined,
  options: { skipRelative?: boolean } = {},
): CheckResult {
  const out: CheckResult = { reasons: [], observed: {} };
  if (!s.ok) {
    out.reasons.push(`probe failed: ${s.error ?? 'unknown error'}`);
    return out;
  }
  checkStatus(tol, s, out);
  checkBody(tol, s, out);
  checkHeaders(tol, s, out);
  checkCommand(tol, s, out);
  checkValue(tol, s, baseline, out, options.skipRelative === true);
  return out;
}
