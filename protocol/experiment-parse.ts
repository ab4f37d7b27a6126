import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import {
  type Experiment,
  type ExperimentIssue,
  type ExperimentParseOptions,
  type IssuePath,
  parseExperimentObject,
} from './experiment.ts';

/**
 * Parses an experiment file's text (YAML, or JSON by extension) and reports every problem with the
 * file position of the offending node: `experiments/x.yaml:14:7: spec.method[0].params.delayMs:
 * expected a number >= 0, got "fast"`.
 */

/** One problem in an experiment file. `line` and `col` are 1-based. */
export interface ExperimentError {
  file: string;
  line: number;
  col: number;
  /** Dotted/bracket path such as `spec.method[0].params`; empty for the whole file. */
  path: string;
  message: string;
}

export type ExperimentTextResult =
  | { ok: true; experiment: Experiment }
  | { ok: false; errors: ExperimentError[] };

/** `spec.method[0].headers["content-type"]` */
export function formatIssuePath(path: IssuePath): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(key)}]`;
  }
  return out;
}

/** `file:line:col: path: message` */
export function formatExperimentError(e: ExperimentError): string {
  return `${e.file}:${e.line}:${e.col}: ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

interface Located {
  key?: Node;
  value?: Node | null;
}

/** Follows `path` through the YAML tree; stops at the deepest node that exists. */
function locate(
  root: Node | null,
  path: IssuePath,
): { found: Located; parent: Node | null; complete: boolean } {
  let current: Located = { value: root };
  let parent: Node | null = null;
  for (const segment of path) {
    const node = current.value;
    let next: Located | undefined;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment),
      );
      if (pair) next = { key: pair.key as Node, value: pair.value as Node | null };
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (item !== undefined) next = { value: item as Node | null };
    }
    if (!next) return { found: current, parent, complete: false };
    parent = node ?? null;
    current = next;
  }
  return { found: current, parent, complete: true };
}

function offsetFor(root: Node | null, issue: ExperimentIssue): number {
  if (issue.at === 'parent') {
    const { found } = locate(root, issue.path.slice(0, -1));
    return found.value?.range?.[0] ?? found.key?.range?.[0] ?? 0;
  }
  const { found, complete } = locate(root, issue.path);
  if (complete && issue.at === 'key' && found.key?.range) return found.key.range[0];
  return found.value?.range?.[0] ?? found.key?.range?.[0] ?? 0;
}

function byPosition(a: ExperimentError, b: ExperimentError): number {
  return a.line - b.line || a.col - b.col;
}

/** Finds `position N` in a JSON.parse message and turns it into line:col. */
function jsonSyntaxError(err: unknown, text: string, file: string, counter: LineCounter): ExperimentError {
  const raw = err instanceof Error ? err.message : String(err);
  const position = /at position (\d+)/.exec(raw);
  const offset = position ? Number(position[1]) : text.length;
  counter.lineStarts.length = 0;
  counter.addNewLine(0);
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') counter.addNewLine(i + 1);
  const { line, col } = counter.linePos(offset);
  const message = raw.replace(/\s*(in JSON )?at position \d+.*$/s, '').replace(/^JSON\.parse: /, '');
  return { file, line, col, path: '', message: `JSON syntax error: ${message}` };
}

/**
 * Parses YAML (or JSON when `fileName` ends in `.json`) into an Experiment. Every schema issue,
 * unknown key and cross-reference problem becomes one error, sorted by position.
 */
export function parseExperimentText(
  text: string,
  fileName: string,
  options: ExperimentParseOptions = {},
): ExperimentTextResult {
  // Editors on Windows may save a byte-order mark; neither parser wants it.
  text = text.replace(/^\uFEFF/, '');
  const counter = new LineCounter();
  if (fileName.toLowerCase().endsWith('.json')) {
    try {
      JSON.parse(text);
    } catch (err) {
      return { ok: false, errors: [jsonSyntaxError(err, text, fileName, counter)] };
    }
  }
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    // Only the first: later syntax errors are mostly the parser losing its footing after it.
    const first = doc.errors.reduce((a, b) => (b.pos[0] < a.pos[0] ? b : a));
    const { line, col } = counter.linePos(first.pos[0]);
    const message = `YAML syntax error: ${first.message.split('\n')[0]}`;
    return { ok: false, errors: [{ file: fileName, line, col, path: '', message }] };
  }
  const root = doc.contents as Node | null;
  const result = parseExperimentObject(doc.toJS({ maxAliasCount: 100 }), options);
  if (result.ok) return result;
  const errors = result.issues.map((issue): ExperimentError => {
    const { line, col } = counter.linePos(offsetFor(root, issue));
    return { file: fileName, line, col, path: formatIssuePath(issue.path), message: issue.message };
  });
  return { ok: false, errors: errors.sort(byPosition) };
}
