import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';

// `faultline validate` and `faultline schema` run as real child processes on the fixtures in
// test/fixtures/broken/ (one defect each) and on the example experiments.

const ROOT = new URL('..', import.meta.url).pathname;
const BROKEN = 'test/fixtures/broken';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function faultline(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['cli/main.ts', ...args],
      { cwd: ROOT, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** file → the exact lines `faultline validate` must print for it. */
const EXPECTED: Record<string, string[]> = {
  'unknown-key-suggestion.yaml': [
    '11:47: spec.hypothesis.probes[0].http.timeoutMS: unknown key `timeoutMS`; did you mean `timeoutMs`?',
  ],
  'wrong-type.yaml': ['5:11: metadata.labels: expected a mapping, got a list'],
  'negative-delay.yaml': ['18:26: spec.method[0].params.delayMs: expected a number >= 0, got -5'],
  'bad-duration.yaml': [
    '20:17: spec.method[0].duration: expected a duration like 500ms, 10s or 2m, got "fast"',
  ],
  'missing-apiversion.yaml': ['1:1: apiVersion: missing required key `apiVersion` (expected "faultline/v1")'],
  'wrong-kind.yaml': ['2:7: kind: expected "Experiment", got "Experimnet"'],
  'yaml-syntax.yaml': ['18:1: YAML syntax error: Sequence item without - indicator'],
  'json-syntax.json': ['29:7: JSON syntax error: Expected double-quoted property name'],
  'json-unknown-key.json': ['16:5: spec.target: unknown key `target`; did you mean `targets`?'],
  'unknown-fault-type.yaml': [
    '16:14: spec.method[0].fault: unknown fault type "latncy" for http proxies; known: latency, abort, reset, timeout, bandwidth, aws',
  ],
  'params-fail-schema.yaml': [
    '18:25: spec.method[0].params.status: expected a whole number >= 100 and <= 599, got 700',
  ],
  'params-unknown-key.yaml': [
    '18:17: spec.method[0].params.delay: unknown key `delay`; did you mean `delayMs`?',
  ],
  'guard-unknown-probe.yaml': [
    '22:14: spec.guards[0].probe: unknown probe "web-up"; hypothesis probes: web-ok',
  ],
  'target-not-declared.yaml': [
    '17:15: spec.method[0].target: unknown target "backend"; declared targets: api',
  ],
  'duplicate-probes.yaml': ['13:15: spec.hypothesis.probes[1].name: duplicate probe name "web-ok"'],
  'percent-over-100.yaml': ['19:16: spec.method[0].percent: expected a number >= 0 and <= 100, got 150'],
  'bad-host-port.yaml': [
    '7:55: spec.proxies[0].upstream: expected host:port, e.g. 127.0.0.1:8080, got "localhost"',
  ],
  'probe-two-kinds.yaml': [
    '12:9: spec.hypothesis.probes[0].tcp: a probe has exactly one kind, got both `http` and `tcp`',
  ],
  'tolerance-unknown-key.yaml': [
    '12:35: spec.hypothesis.probes[0].tolerance.latency: unknown key `latency`; did you mean `latencyMs`?',
  ],
  'rampup-over-100.yaml': ['21:19: spec.rampUp[2]: expected a number > 0 and <= 100, got 150'],
  'failafter-zero.yaml': ['24:18: spec.guards[0].failAfter: expected a whole number >= 1, got 0'],
  'every-too-short.yaml': ['23:14: spec.guards[0].every: expected a duration of at least 100ms, got "50ms"'],
  'compare-without-cohort.yaml': [
    '22:25: spec.guards[0].compare.proxy: a compare guard needs a fault step with `cohort` on a target of proxy "web"',
  ],
  'failafter-and-mofn.yaml': ['25:7: spec.guards[0].mOfN: use `failAfter` or `mOfN`, not both'],
  'unknown-proxy.yaml': [
    '14:19: spec.targets.api.proxy: unknown proxy "webb"; declared in spec.proxies: web (or set spec.proxyAdmin)',
  ],
  'empty-method.yaml': ['15:11: spec.method: expected at least 1 item, got 0'],
  'bad-relative-bound.yaml': [
    '12:60: spec.hypothesis.probes[0].tolerance.latencyMs.p99.max: expected a number or a relative bound like "1.2x baseline", got "1.2 times baseline"',
  ],
  'missing-nested-key.yaml': ['4:3: metadata.name: missing required key `name` (expected a string)'],
  'bad-regex.yaml': [
    '12:37: spec.hypothesis.probes[0].tolerance.body.regex: expected a valid regular expression, got "(unclosed"',
  ],
  'step-kind-unknown.yaml': [
    '21:7: spec.method[1]: expected a step with `fault`, `wait` or `parallel`, got a mapping with `sleep`',
  ],
};

// Concurrent: each case is its own child process, so they overlap on the 2 cores.
describe.concurrent('faultline validate', () => {
  it('has an expectation for every broken fixture, and at least 20 of them', ({ expect }) => {
    // biome.json there only keeps the linter off the deliberately broken files.
    const files = readdirSync(join(ROOT, BROKEN))
      .filter((f) => f !== 'biome.json')
      .sort();
    expect(files).toEqual(Object.keys(EXPECTED).sort());
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it('prints each broken file’s error with its exact line and column, and exits 2', async ({ expect }) => {
    const run = await faultline('validate', ...Object.keys(EXPECTED).map((f) => `${BROKEN}/${f}`));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const expected = Object.entries(EXPECTED)
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([file, lines]) => lines.map((line) => `${BROKEN}/${file}:${line}`));
    const printed = run.stderr.trimEnd().split('\n');
    expect(printed.slice(0, -1).sort()).toEqual(expected.sort());
    expect(printed.at(-1)).toBe(`0 of ${expected.length} files valid`);
  });

  it('exits 2 for a single file with a syntax error', async ({ expect }) => {
    const run = await faultline('validate', `${BROKEN}/yaml-syntax.yaml`);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: `${BROKEN}/yaml-syntax.yaml:18:1: YAML syntax error: Sequence item without - indicator\n`,
    });
  });

  it('says ok and exits 0 for every example experiment', async ({ expect }) => {
    const files = readdirSync(join(ROOT, 'experiments')).filter((f) => /\.(ya?ml|json)$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(5);
    const run = await faultline('validate', 'experiments');
    expect(run.stderr.trim()).toBe(`${files.length} of ${files.length} files valid`);
    expect(run.stdout.trim().split('\n').sort()).toEqual(files.map((f) => `ok  experiments/${f}`).sort());
    expect(run.code).toBe(0);
  });

  it('exits 2 when one file of several is invalid or missing, and still reports the valid ones', async ({
    expect,
  }) => {
    const run = await faultline(
      'validate',
      'experiments/http-latency-checkout.yaml',
      `${BROKEN}/wrong-kind.yaml`,
      'experiments/no-such-file.yaml',
    );
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('ok  experiments/http-latency-checkout.yaml\n');
    expect(run.stderr).toContain('experiments/no-such-file.yaml:1:1: cannot read file (ENOENT)');
    expect(run.stderr).toContain(`${BROKEN}/wrong-kind.yaml:2:7: kind: expected "Experiment"`);
  });

  it('exits 2 with usage when given no files', async ({ expect }) => {
    const run = await faultline('validate');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('usage: faultline validate');
  });
});

describe('faultline schema', () => {
  it('prints the same JSON Schema as the committed protocol/experiment.schema.json', async ({ expect }) => {
    const run = await faultline('schema');
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout);
    expect(printed).toEqual(JSON.parse(readFileSync(join(ROOT, 'protocol/experiment.schema.json'), 'utf8')));
    expect(printed.properties.spec.properties.method.items.anyOf).toHaveLength(3);
  });
});
