import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { faultRegistry } from '../proxy/faults/registry.ts';
import {
  type ExperimentError,
  formatExperimentError,
  formatIssuePath,
  parseExperimentText,
} from './experiment-parse.ts';
import type { ProxyMode } from './proxy.ts';

const ROOT = new URL('..', import.meta.url).pathname;

const registryHooks = {
  faultParams: (mode: ProxyMode, type: string) => faultRegistry[mode].get(type)?.params,
  faultTypes: (mode: ProxyMode) => [...faultRegistry[mode].keys()],
};

const VALID = `# yaml-language-server: $schema=../protocol/experiment.schema.json
apiVersion: faultline/v1
kind: Experiment
metadata: { name: x }
spec:
  proxies:
    - { name: p, listen: 127.0.0.1:18081, upstream: 127.0.0.1:18080, mode: http }
  hypothesis:
    probes:
      - name: ok
        http: { url: http://127.0.0.1:18081/, timeoutMs: 500 }
  targets:
    api: { proxy: p }
  method:
    - fault: latency
      target: api
      params: { delayMs: 10 }
      duration: 2m
`;

function errorsOf(text: string, file = 'x.yaml', options = {}): string[] {
  const r = parseExperimentText(text, file, options);
  if (r.ok) throw new Error('expected errors');
  return r.errors.map(formatExperimentError);
}

describe('parseExperimentText', () => {
  it('parses a valid YAML file into a typed experiment with durations in ms', () => {
    const r = parseExperimentText(VALID, 'x.yaml');
    if (!r.ok) throw new Error(r.errors.map(formatExperimentError).join('\n'));
    expect(r.experiment.spec.method[0]).toMatchObject({ fault: 'latency', duration: 120_000 });
  });

  it('points at the key of an unknown key and at the value of a bad value', () => {
    const text = VALID.replace('timeoutMs: 500', 'timeoutMS: 500').replace('duration: 2m', 'duration: fast');
    expect(errorsOf(text)).toEqual([
      'x.yaml:11:47: spec.hypothesis.probes[0].http.timeoutMS: unknown key `timeoutMS`; did you mean `timeoutMs`?',
      'x.yaml:18:17: spec.method[0].duration: expected a duration like 500ms, 10s or 2m, got "fast"',
    ]);
  });

  it('points at the parent mapping when a key is missing', () => {
    const text = VALID.replace('      target: api\n', '');
    expect(errorsOf(text)).toEqual([
      'x.yaml:15:7: spec.method[0].target: missing required key `target` (expected a string)',
    ]);
  });

  it('reports shape and params errors together, sorted by position', () => {
    const hooks = { faultParams: () => z.strictObject({ delayMs: z.number().min(0) }) };
    const text = VALID.replace('delayMs: 10', 'delayMs: fast').replace(
      'kind: Experiment',
      'kind: Experiement',
    );
    expect(errorsOf(text, 'x.yaml', hooks)).toEqual([
      'x.yaml:3:7: kind: expected "Experiment", got "Experiement"',
      'x.yaml:17:26: spec.method[0].params.delayMs: expected a number >= 0, got "fast"',
    ]);
    expect(errorsOf(VALID.replace('delayMs: 10', 'delayMs: fast'), 'x.yaml', hooks)).toEqual([
      'x.yaml:17:26: spec.method[0].params.delayMs: expected a number >= 0, got "fast"',
    ]);
  });

  it('gives YAML syntax errors a line and column', () => {
    const errors = errorsOf('apiVersion: faultline/v1\nkind: [Experiment\nmetadata: {}\n');
    expect(errors[0]).toMatch(/^x\.yaml:\d+:\d+: YAML syntax error: /);
  });

  it('reads JSON files and places JSON syntax errors', () => {
    const json = JSON.stringify({ apiVersion: 'faultline/v1', kind: 'Experiment' }, null, 2);
    expect(errorsOf(json.replace('"kind"', 'kind'), 'x.json')).toEqual([
      expect.stringMatching(/^x\.json:3:3: JSON syntax error: /),
    ]);
    expect(errorsOf(json, 'x.json')).toEqual([
      'x.json:1:1: metadata: missing required key `metadata` (expected a mapping)',
      'x.json:1:1: spec: missing required key `spec` (expected a mapping)',
    ]);
  });

  it('reads files that start with a byte-order mark', () => {
    expect(parseExperimentText(`\uFEFF${VALID}`, 'x.yaml').ok).toBe(true);
    expect(errorsOf('\uFEFF{"apiVersion": 1}', 'x.json')).toContain(
      'x.json:1:16: apiVersion: expected "faultline/v1", got 1',
    );
  });

  it('reports duplicate keys as YAML errors rather than keeping the last one', () => {
    const errors = errorsOf(VALID.replace('kind: Experiment', 'kind: Experiment\nkind: Experiment'));
    expect(errors[0]).toMatch(/^x\.yaml:4:1: YAML syntax error: .*unique/i);
  });

  it('formats paths with brackets for indexes and odd keys', () => {
    expect(formatIssuePath(['spec', 'method', 0, 'params', 'delayMs'])).toBe('spec.method[0].params.delayMs');
    expect(formatIssuePath(['headers', 'content-type'])).toBe('headers["content-type"]');
  });
});

describe('the example files', () => {
  const files = ['experiments', 'scenarios']
    .map((dir) => join(ROOT, dir))
    .filter((dir) => existsSync(dir))
    .flatMap((dir) =>
      readdirSync(dir)
        .filter((f) => /\.(ya?ml|json)$/.test(f))
        .map((f) => join(dir, f)),
    );

  it('exist', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('%s parses with no error against the schema and the fault registry', (file) => {
    const text = readFileSync(file, 'utf8');
    const r = parseExperimentText(text, file, registryHooks);
    const errors: ExperimentError[] = r.ok ? [] : r.errors;
    expect(errors.map(formatExperimentError)).toEqual([]);
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../protocol/experiment.schema.json');
  });
});
