import { z } from 'zod';
import { didYouMean } from './did-you-mean.ts';

/**
 * Turns zod issues into one readable issue per problem: "expected a number >= 0, got "fast"",
 * "unknown key `timeoutMS`; did you mean `timeoutMs`?". The schema is walked along each issue's
 * path to say what was expected; the input is read at the path to say what was found.
 */

export type IssuePath = (string | number)[];

/** Where a file-position mapper should point: the key, its value, or (missing key) the parent mapping. */
export type IssueAt = 'key' | 'value' | 'parent';

export interface ExperimentIssue {
  path: IssuePath;
  message: string;
  at: IssueAt;
}

type AnySchema = z.ZodType;
type Def = { type: string; [k: string]: unknown };

function defOf(schema: unknown): Def | undefined {
  return (schema as { _zod?: { def?: Def } } | undefined)?._zod?.def;
}

/** Strips optional/default/pipe wrappers down to the schema that checks the value's shape. */
function unwrap(schema: AnySchema | undefined): AnySchema | undefined {
  let s = schema;
  for (let i = 0; i < 20 && s; i++) {
    const def = defOf(s);
    if (!def) return s;
    if (
      ['optional', 'nullable', 'default', 'prefault', 'nonoptional', 'readonly', 'catch'].includes(def.type)
    ) {
      s = def.innerType as AnySchema;
    } else if (def.type === 'pipe') {
      s = def.in as AnySchema;
    } else if (def.type === 'lazy') {
      s = (def.getter as () => AnySchema)();
    } else {
      return s;
    }
  }
  return s;
}

/** The schema at `path` under `schema` (first matching union option), wrappers still on. */
export function schemaAt(schema: AnySchema | undefined, path: readonly PropertyKey[]): AnySchema | undefined {
  let s = schema;
  for (const key of path) {
    const def = defOf(unwrap(s));
    if (!def) return undefined;
    if (def.type === 'object') s = (def.shape as Record<string, AnySchema>)[String(key)];
    else if (def.type === 'array') s = def.element as AnySchema;
    else if (def.type === 'record') s = def.valueType as AnySchema;
    else if (def.type === 'union') {
      s = (def.options as AnySchema[]).map((o) => schemaAt(o, [key])).find((x) => x !== undefined);
    } else return undefined;
  }
  return s;
}

/** Keys an object schema (or any object option of a union) knows. */
export function knownKeys(schema: AnySchema | undefined): string[] {
  const def = defOf(unwrap(schema));
  if (!def) return [];
  if (def.type === 'object') return Object.keys(def.shape as object);
  if (def.type === 'union') return [...new Set((def.options as AnySchema[]).flatMap((o) => knownKeys(o)))];
  return [];
}

function quoteAll(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

/** The `description` some schema on the way down through the wrappers was given (`.meta`). */
function describedAs(schema: AnySchema | undefined): string | undefined {
  let s = schema;
  for (let i = 0; i < 20 && s; i++) {
    const description = z.globalRegistry.get(s)?.description;
    if (description) return description;
    const def = defOf(s);
    if (!def || def.type === 'object' || def.type === 'union') return undefined;
    s = (def.innerType ?? def.in) as AnySchema | undefined;
  }
  return undefined;
}

/** What the schema wants, as a phrase: `a whole number > 0`, `one of "tcp", "http"`. */
export function describeExpected(schema: AnySchema | undefined): string | undefined {
  const described = describedAs(schema);
  if (described?.startsWith('a ')) return described;
  const s = unwrap(schema);
  const def = defOf(s);
  if (!def) return undefined;
  switch (def.type) {
    case 'number': {
      const checks = ((def.checks as { _zod: { def: Record<string, unknown> } }[] | undefined) ?? []).map(
        (c) => c._zod.def,
      );
      const isInt = checks.some((c) => c.format === 'safeint' || c.format === 'int32');
      const bounds: string[] = [];
      for (const c of checks) {
        if (c.check === 'greater_than') bounds.push(`${c.inclusive ? '>=' : '>'} ${c.value}`);
        if (c.check === 'less_than') bounds.push(`${c.inclusive ? '<=' : '<'} ${c.value}`);
      }
      return [isInt ? 'a whole number' : 'a number', bounds.join(' and ')].filter(Boolean).join(' ');
    }
    case 'string':
      return 'a string';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'enum':
      return `one of ${quoteAll(Object.values(def.entries as object))}`;
    case 'literal': {
      const values = def.values as unknown[];
      return values.length === 1 ? JSON.stringify(values[0]) : `one of ${quoteAll(values)}`;
    }
    case 'union': {
      const parts = (def.options as AnySchema[]).map(describeExpected).filter((x) => x !== undefined);
      return [...new Set(parts)].join(' or ');
    }
    default:
      return undefined;
  }
}

/** How a found value reads in a message. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key as string];
  }
  return v;
}

function hasKey(input: unknown, path: readonly PropertyKey[]): boolean {
  const parent = valueAt(input, path.slice(0, -1));
  return parent !== null && typeof parent === 'object' && Object.hasOwn(parent, path.at(-1) as string);
}

type Issue = z.core.$ZodIssue;
// A key absent from the input shows up as one of these on the key's path.
const MISSING_CODES = new Set(['invalid_type', 'invalid_value', 'invalid_union']);
const ROOT_MISMATCH = new Set(['invalid_type', 'invalid_format', 'invalid_value', 'invalid_union']);

/** How far a union option is from fitting: root type mismatches rule it out, then count key trouble. */
function optionDistance(issues: Issue[], input: unknown): number {
  let distance = 0;
  for (const issue of issues) {
    if (issue.path.length === 0 && ROOT_MISMATCH.has(issue.code)) return Number.POSITIVE_INFINITY;
    if (issue.code === 'unrecognized_keys' && issue.path.length === 0) distance += issue.keys.length;
    else if (issue.path.length === 1 && !hasKey(input, issue.path)) distance += 1;
  }
  return distance;
}

function withGot(message: string, value: unknown): string {
  if (!message.startsWith('expected') || message.includes(', got ') || value === undefined) return message;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length) return `${message}, got a mapping with ${keys.map((k) => `\`${k}\``).join(', ')}`;
  }
  return `${message}, got ${showValue(value)}`;
}

/** Readable issues for one zod parse of `input` against `schema`; paths are prefixed with `prefix`. */
export function explainZodIssues(
  issues: readonly Issue[],
  schema: AnySchema,
  input: unknown,
  prefix: IssuePath = [],
): ExperimentIssue[] {
  const out: ExperimentIssue[] = [];
  for (const issue of issues) {
    const path = issue.path as IssuePath;
    const full = [...prefix, ...path];
    const value = valueAt(input, path);
    const expected = describeExpected(schemaAt(schema, path));
    if (MISSING_CODES.has(issue.code) && path.length > 0 && !hasKey(input, path)) {
      const what = expected ? ` (expected ${expected})` : '';
      out.push({ path: full, message: `missing required key \`${path.at(-1)}\`${what}`, at: 'parent' });
      continue;
    }
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeys(schemaAt(schema, path));
        for (const key of issue.keys) {
          const guess = didYouMean(key, known);
          const hint = guess
            ? `; did you mean \`${guess}\`?`
            : known.length
              ? `; expected one of ${known.join(', ')}`
              : '';
          out.push({ path: [...full, key], message: `unknown key \`${key}\`${hint}`, at: 'key' });
        }
        break;
      }
      case 'invalid_type':
        out.push({
          path: full,
          message: `expected ${expected ?? issue.expected}, got ${showValue(value)}`,
          at: 'value',
        });
        break;
      case 'too_small':
      case 'too_big': {
        let message: string;
        if (issue.origin === 'array' || issue.origin === 'set') {
          const n = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
          const count = Array.isArray(value) ? value.length : 0;
          const word = issue.code === 'too_small' ? 'at least' : 'at most';
          message = `expected ${word} ${n} item${n === 1 ? '' : 's'}, got ${count}`;
        } else if (issue.origin === 'string') {
          message =
            issue.code === 'too_small' && Number(issue.minimum) === 1
              ? 'expected a non-empty string'
              : issue.message;
        } else {
          message = `expected ${expected ?? 'a number in range'}, got ${showValue(value)}`;
        }
        out.push({ path: full, message, at: 'value' });
        break;
      }
      case 'invalid_value':
        out.push({
          path: full,
          message: `expected ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${quoteAll(issue.values)}`}, got ${showValue(value)}`,
          at: 'value',
        });
        break;
      case 'invalid_format': {
        const custom = !issue.message.startsWith('Invalid');
        const message = custom ? issue.message : `expected a valid ${issue.format}`;
        out.push({ path: full, message: withGot(message, value), at: 'value' });
        break;
      }
      case 'invalid_union': {
        const optionSchemas =
          (defOf(unwrap(schemaAt(schema, path)))?.options as AnySchema[] | undefined) ?? [];
        const chosen = chooseOption(issue.errors, optionSchemas, value, issue.message !== 'Invalid input');
        if (chosen === undefined) {
          const message =
            issue.message === 'Invalid input' ? `expected ${expected ?? 'something else'}` : issue.message;
          out.push({ path: full, message: withGot(message, value), at: 'value' });
        } else {
          out.push(...explainZodIssues(issue.errors[chosen]!, optionSchemas[chosen] ?? schema, value, full));
        }
        break;
      }
      default: {
        const at = (issue as { params?: { at?: IssueAt } }).params?.at ?? 'value';
        out.push({ path: full, message: withGot(issue.message, value), at });
      }
    }
  }
  return dropGuessedMissing(out);
}

/**
 * Which union option the input was meant to be, or undefined when none is clear. A mapping that
 * has a key only one option knows (`fault`, `wait`, `probe`, ...) belongs to that option;
 * otherwise the option with the least key trouble wins, unless every option's root type is wrong.
 * `hasOwnMessage`: the union was given a message of its own.
 */
function chooseOption(
  errors: Issue[][],
  options: AnySchema[],
  value: unknown,
  hasOwnMessage: boolean,
): number | undefined {
  if (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    options.length === errors.length
  ) {
    const keySets = options.map((o) => new Set(knownKeys(o)));
    if (keySets.every((k) => k.size > 0)) {
      const claimed = keySets
        .map((keys, i) => ({ i, keys }))
        .filter(({ i, keys }) =>
          Object.keys(value).some(
            (k) => keys.has(k) && keySets.every((other, j) => j === i || !other.has(k)),
          ),
        )
        .map(({ i }) => i);
      if (claimed.length === 1) return claimed[0];
      // A union with its own message ("expected a step with ...") says it better than a guess.
      if (claimed.length === 0 && hasOwnMessage) return undefined;
    }
  }
  let best: number | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  errors.forEach((errs, i) => {
    const distance = optionDistance(errs, value);
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  });
  return best;
}

/** A missing `delayMs` next to an unknown `delay` that suggests it says the same thing twice. */
function dropGuessedMissing(issues: ExperimentIssue[]): ExperimentIssue[] {
  const guessed = new Set(
    issues
      .filter((i) => i.at === 'key')
      .map((i) => {
        const guess = /did you mean `([^`]+)`/.exec(i.message)?.[1];
        return guess === undefined ? undefined : JSON.stringify([...i.path.slice(0, -1), guess]);
      })
      .filter((x) => x !== undefined),
  );
  return issues.filter((i) => i.at !== 'parent' || !guessed.has(JSON.stringify(i.path)));
}
