import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatExperimentError, parseExperimentText } from './experiment-parse.ts';
import type { ExperimentParseOptions } from './experiment-references.ts';

// Agent targets in experiment files: `on`, selection, and the agent fault checks, reported with
// file:line:col like every other problem. The hooks stand in for the agent's fault registry.

const agentHooks: ExperimentParseOptions = {
  agentFault: (type) =>
    ({
      'cpu-stress': {
        params: z.strictObject({
          percent: z.number().min(1).max(100),
          cores: z.number().int().min(1).default(1),
        }),
        targets: ['host', 'pid', 'container'],
      },
      'docker-kill': {
        params: z.strictObject({ signal: z.string().optional() }),
        targets: ['container', 'containers'],
      },
    })[type],
  agentFaultTypes: () => ['cpu-stress', 'docker-kill'],
};

function file(target: string, step: string): string {
  return `apiVersion: faultline/v1
kind: Experiment
metadata: { name: x }
spec:
  proxies:
    - { name: p, listen: 127.0.0.1:18081, upstream: 127.0.0.1:18080 }
  targets:
    api: { proxy: p }
    web: ${target}
  method:
    - ${step}
`;
}

function errorsOf(text: string): string[] {
  const r = parseExperimentText(text, 'x.yaml', agentHooks);
  return r.ok ? [] : r.errors.map(formatExperimentError);
}

describe('agent targets in experiment files', () => {
  it('parses `on` (host by default) with selection by labels, ids, mode and seed', () => {
    const r = parseExperimentText(
      file(
        "{ agents: { labels: { role: web }, ids: [a1, a2] }, mode: count, value: 1, seed: 3, on: 'containers:app=shop,tier=front' }",
        '{ fault: docker-kill, target: web, params: { signal: SIGTERM }, duration: 5s }',
      ),
      'x.yaml',
      agentHooks,
    );
    if (!r.ok) throw new Error(r.errors.map(formatExperimentError).join('\n'));
    expect(r.experiment.spec.targets.web).toEqual({
      agents: { labels: { role: 'web' }, ids: ['a1', 'a2'] },
      mode: 'count',
      value: 1,
      seed: 3,
      on: 'containers:app=shop,tier=front',
    });
    const host = parseExperimentText(
      file('{ agents: {} }', '{ fault: cpu-stress, target: web, params: { percent: 5 }, duration: 1s }'),
      'x.yaml',
      agentHooks,
    );
    expect(host.ok && host.experiment.spec.targets.web!.on).toBeUndefined();
  });

  it('reports a malformed `on` at its value', () => {
    expect(
      errorsOf(
        file(
          "{ agents: {}, on: 'vm:1' }",
          '{ fault: cpu-stress, target: web, params: { percent: 5 }, duration: 1s }',
        ),
      ),
    ).toEqual([
      'x.yaml:9:28: spec.targets.web.on: expected host, pid:N, container:NAME, containers:LABEL=VALUE,..., service:NAME or netns:NAME, got "vm:1"',
    ]);
  });

  it('reports `on` and agent selection on a proxy target at the key', () => {
    expect(
      errorsOf(
        file(
          '{ agents: {} }',
          '{ fault: latency, target: api, params: { delayMs: 1 }, duration: 1s }',
        ).replace('api: { proxy: p }', 'api: { proxy: p, on: host }'),
      ),
    ).toEqual(['x.yaml:8:22: spec.targets.api.on: `on` applies to agent targets only']);
  });

  it('reports an unknown agent fault type with the known ones', () => {
    expect(
      errorsOf(
        file('{ agents: {} }', '{ fault: cpu-stres, target: web, params: { percent: 5 }, duration: 1s }'),
      ),
    ).toEqual([
      'x.yaml:11:16: spec.method[0].fault: unknown fault type "cpu-stres" for agent targets; known: cpu-stress, docker-kill',
    ]);
  });

  it('reports a fault type that does not act on the target’s kind', () => {
    expect(
      errorsOf(file('{ agents: {}, on: host }', '{ fault: docker-kill, target: web, duration: 1s }')),
    ).toEqual([
      'x.yaml:11:16: spec.method[0].fault: fault type "docker-kill" does not act on host targets (target "web" has `on: host`); it acts on: container, containers',
    ]);
  });

  it('checks agent fault params against the fault’s schema', () => {
    expect(
      errorsOf(
        file('{ agents: {} }', '{ fault: cpu-stress, target: web, params: { percent: 500 }, duration: 1s }'),
      ),
    ).toEqual(['x.yaml:11:60: spec.method[0].params.percent: expected a number >= 1 and <= 100, got 500']);
  });

  it('reports proxy-only step keys on an agent step at the key, pointing `percent` to the target’s mode', () => {
    expect(
      errorsOf(
        file(
          '{ agents: {} }',
          '{ fault: cpu-stress, target: web, params: { percent: 5 }, percent: 50, match: { path: / }, duration: 1s }',
        ),
      ),
    ).toEqual([
      'x.yaml:11:65: spec.method[0].percent: `percent` applies to proxy faults only; target "web" selects agents; choose how many agents with the target\'s `mode: percent` and `value`',
      'x.yaml:11:78: spec.method[0].match: `match` applies to proxy faults only; target "web" selects agents',
    ]);
  });
});
