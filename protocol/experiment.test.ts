import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SCHEMA_FILE, schemaFileText } from '../scripts/gen-schema.ts';
import { didYouMean, editDistance } from './did-you-mean.ts';
import { type ExperimentInput, type ExperimentParseOptions, parseExperimentObject } from './experiment.ts';

// Tests edit nested fields of this fixture freely, including into invalid shapes.
// biome-ignore lint/suspicious/noExplicitAny: the fixture is mutated into invalid shapes on purpose
type Fixture = any;

function minimal(): Fixture {
  const input: ExperimentInput = {
    apiVersion: 'faultline/v1',
    kind: 'Experiment',
    metadata: { name: 'x' },
    spec: {
      proxies: [{ name: 'p', listen: '127.0.0.1:18081', upstream: '127.0.0.1:18080', mode: 'http' }],
      hypothesis: { probes: [{ name: 'ok', http: { url: 'http://127.0.0.1:18081/' } }] },
      targets: { api: { proxy: 'p' } },
      method: [{ fault: 'latency', target: 'api', params: { delayMs: 5 }, duration: '2m' }],
    },
  };
  return input;
}

function issuesOf(input: unknown, options?: ExperimentParseOptions) {
  const r = parseExperimentObject(input, options);
  if (r.ok) throw new Error('expected the experiment to be rejected');
  return r.issues.map((i) => ({ path: i.path.join('.'), message: i.message, at: i.at }));
}

describe('experiment schema', () => {
  it('fills the documented defaults', () => {
    const r = parseExperimentObject({
      ...minimal(),
      spec: { ...minimal().spec, guards: [{ probe: 'ok' }], rampUp: { stages: [10, 100] } },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const { spec } = r.experiment;
    expect(spec.settings).toEqual({ leaseMs: 5000, probeInterval: 1000, steadyStateSamples: 5 });
    expect(spec.method[0]).toMatchObject({ direction: 'downstream', percent: 100, duration: 120_000 });
    expect(spec.guards[0]).toEqual({ probe: 'ok', every: 1000, failAfter: 1 });
    expect(spec.rampUp).toEqual({ stages: [10, 100], stageDuration: 10_000 });
    expect(spec.hypothesis.probes[0]?.http).toEqual({
      url: 'http://127.0.0.1:18081/',
      method: 'GET',
      headers: {},
      timeoutMs: 2000,
    });
  });

  it('normalises the rampUp short form and reads relative tolerances', () => {
    const exp = minimal();
    exp.spec.rampUp = [5, 25, 50, 100];
    exp.spec.hypothesis.probes[0].tolerance = {
      latencyMs: { p99: { max: '1.2x baseline' }, p50: { max: 40 } },
    };
    const r = parseExperimentObject(exp);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.experiment.spec.rampUp).toEqual({ stages: [5, 25, 50, 100], stageDuration: 10_000 });
    const tol = r.experiment.spec.hypothesis.probes[0]?.tolerance;
    expect(tol?.latencyMs?.p99?.max).toEqual({ factor: 1.2, of: 'baseline' });
    expect(tol?.latencyMs?.p50?.max).toBe(40);
    expect(tol?.window).toBe(10_000);
  });

  it('keeps a guard that counts m of n failures without adding failAfter', () => {
    const exp = minimal();
    exp.spec.guards = [{ probe: 'ok', every: '250ms', mOfN: { m: 3, n: 5 } }];
    const r = parseExperimentObject(exp);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    expect(r.experiment.spec.guards[0]).toEqual({ probe: 'ok', every: 250, mOfN: { m: 3, n: 5 } });
  });

  it('rejects unknown keys with a suggestion and wrong types with what was found', () => {
    const exp = minimal();
    exp.spec.hypothesis.probes[0].http.timeoutMS = 5;
    exp.spec.method[0].percent = 'half';
    expect(issuesOf(exp)).toEqual([
      {
        path: 'spec.hypothesis.probes.0.http.timeoutMS',
        message: 'unknown key `timeoutMS`; did you mean `timeoutMs`?',
        at: 'key',
      },
      {
        path: 'spec.method.0.percent',
        message: 'expected a number >= 0 and <= 100, got "half"',
        at: 'value',
      },
    ]);
  });

  it('reports a missing key against its parent', () => {
    const { apiVersion: _, ...rest } = minimal();
    expect(issuesOf(rest)).toEqual([
      {
        path: 'apiVersion',
        message: 'missing required key `apiVersion` (expected "faultline/v1")',
        at: 'parent',
      },
    ]);
  });

  it('says what a missing duration should look like', () => {
    const exp = minimal();
    delete exp.spec.method[0].duration;
    expect(issuesOf(exp)).toEqual([
      {
        path: 'spec.method.0.duration',
        message:
          'missing required key `duration` (expected a duration like 500ms, 10s or 2m, or a number of ms)',
        at: 'parent',
      },
    ]);
  });

  it('explains an invalid method step by the kind of step it looks like', () => {
    const exp = minimal();
    exp.spec.method.push({ wait: 'soon' });
    exp.spec.method.push({ parallel: [{ fault: 'latency', target: 'api', duration: '1s', percent: 101 }] });
    expect(issuesOf(exp).map((i) => `${i.path}: ${i.message}`)).toEqual([
      'spec.method.1.wait: expected a duration like 500ms, 10s or 2m, got "soon"',
      'spec.method.2.parallel.0.percent: expected a number >= 0 and <= 100, got 101',
    ]);
  });

  it('checks cross-references: targets, guard probes, proxies, duplicate probes', () => {
    const exp = minimal();
    exp.spec.hypothesis.probes.push({ name: 'ok', tcp: { address: '127.0.0.1:1' } });
    exp.spec.targets.db = { proxy: 'nope' };
    exp.spec.method.push({ fault: 'latency', target: 'cache', duration: '1s' });
    exp.spec.guards = [{ probe: 'gone' }];
    expect(issuesOf(exp).map((i) => `${i.path}: ${i.message}`)).toEqual([
      'spec.hypothesis.probes.1.name: duplicate probe name "ok"',
      'spec.targets.db.proxy: unknown proxy "nope"; declared in spec.proxies: p (or set spec.proxyAdmin)',
      'spec.method.1.target: unknown target "cache"; declared targets: api, db',
      'spec.guards.0.probe: unknown probe "gone"; hypothesis probes: ok',
    ]);
  });

  it('reports shape errors and reference errors in one pass, once per path', () => {
    const exp = minimal();
    exp.spec.method[0].percent = 150;
    exp.spec.guards = [{ probe: 'gone' }, { probe: 'bad name!' }];
    expect(issuesOf(exp).map((i) => `${i.path}: ${i.message}`)).toEqual([
      'spec.method.0.percent: expected a number >= 0 and <= 100, got 150',
      'spec.guards.1.probe: expected a name of 1-64 of A-Z a-z 0-9 _ . -, got "bad name!"',
      'spec.guards.0.probe: unknown probe "gone"; hypothesis probes: ok',
    ]);
  });

  it('accepts a proxy that is not declared when a proxy admin URL is given', () => {
    const exp = minimal();
    exp.spec.proxies = [];
    exp.spec.proxyAdmin = 'http://127.0.0.1:8474';
    expect(parseExperimentObject(exp).ok).toBe(true);
  });

  it('checks fault params with the schema the hook gives, by the target proxy mode', () => {
    const seen: string[] = [];
    const options: ExperimentParseOptions = {
      faultParams: (mode, type) => {
        seen.push(`${mode}/${type}`);
        return type === 'latency' ? z.strictObject({ delayMs: z.number().nonnegative() }) : undefined;
      },
      faultTypes: () => ['latency', 'abort'],
    };
    const exp = minimal();
    exp.spec.method[0].params = { delayMs: -1 };
    exp.spec.method.push({ fault: 'latncy', target: 'api', duration: '1s' });
    expect(issuesOf(exp, options).map((i) => `${i.path}: ${i.message}`)).toEqual([
      'spec.method.0.params.delayMs: expected a number >= 0, got -1',
      'spec.method.1.fault: unknown fault type "latncy" for http proxies; known: latency, abort',
    ]);
    expect(seen).toEqual(['http/latency', 'http/latncy']);
  });

  it('refuses match and cohort on a step whose target is a tcp proxy, and keeps them for http', () => {
    const exp = minimal();
    exp.spec.proxies[0].mode = 'tcp';
    exp.spec.method[0].match = { methods: ['GET'] };
    exp.spec.method[0].cohort = { header: 'x-user' };
    expect(issuesOf(exp)).toEqual([
      {
        path: 'spec.method.0.match',
        message: '`match` applies to HTTP-mode proxies only; proxy "p" is in tcp mode',
        at: 'key',
      },
      {
        path: 'spec.method.0.cohort',
        message: '`cohort` applies to HTTP-mode proxies only; proxy "p" is in tcp mode',
        at: 'key',
      },
    ]);
    exp.spec.proxies[0].mode = 'http';
    expect(parseExperimentObject(exp).ok).toBe(true);
  });

  it('refuses a fault lease longer than an hour', () => {
    const exp = minimal();
    exp.spec.settings = { leaseMs: 3_600_001 };
    expect(issuesOf(exp).map((i) => i.path)).toEqual(['spec.settings.leaseMs']);
    exp.spec.settings = { leaseMs: 3_600_000 };
    expect(parseExperimentObject(exp).ok).toBe(true);
  });

  it('rejects a probe with two kinds, pointing at the second', () => {
    const exp = minimal();
    exp.spec.hypothesis.probes[0].tcp = { address: '127.0.0.1:5432' };
    expect(issuesOf(exp)).toEqual([
      {
        path: 'spec.hypothesis.probes.0.tcp',
        message: 'a probe has exactly one kind, got both `http` and `tcp`',
        at: 'key',
      },
    ]);
  });
});

describe('did you mean', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('tiemoutMs', 'timeoutMs')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests close or case-different keys and nothing for far ones', () => {
    expect(didYouMean('TIMEOUTMS', ['url', 'timeoutMs'])).toBe('timeoutMs');
    expect(didYouMean('delyMs', ['delayMs', 'jitterMs'])).toBe('delayMs');
    expect(didYouMean('banana', ['delayMs', 'jitterMs'])).toBeUndefined();
  });
});

describe('the committed JSON Schema', () => {
  it('is what the zod schema generates now (run `node scripts/gen-schema.ts` after a change)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schemaFileText());
  });
});
