import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusProbe, parseQueryAnswer } from './prometheus-probe.ts';
import { startTestServer } from './test-server.ts';

// The real Prometheus end to end is in test/prometheus-probe.test.ts; these pin the answer parsing.
describe('prometheus answer parsing', () => {
  it('reads a one-series instant vector and a scalar', () => {
    expect(
      parseQueryAnswer({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0.25'] }] },
      }),
    ).toEqual({ value: 0.25 });
    expect(parseQueryAnswer({ status: 'success', data: { resultType: 'scalar', result: [1, '3'] } })).toEqual(
      { value: 3 },
    );
  });

  it('says what is wrong with empty, multi-series, NaN, matrix and error answers', () => {
    const vec = (result: unknown[]) =>
      parseQueryAnswer({ status: 'success', data: { resultType: 'vector', result } });
    expect(vec([])).toEqual({ error: 'query returned no series (is the metric scraped yet?)' });
    expect(
      vec([
        { metric: {}, value: [1, '1'] },
        { metric: {}, value: [1, '2'] },
      ]),
    ).toEqual({
      error: 'query returned 2 series; aggregate it to one, e.g. sum(...)',
    });
    expect(vec([{ metric: {}, value: [1, 'NaN'] }])).toMatchObject({ error: expect.stringContaining('NaN') });
    expect(parseQueryAnswer({ status: 'success', data: { resultType: 'matrix', result: [] } })).toMatchObject(
      {
        error: expect.stringContaining('matrix'),
      },
    );
    expect(parseQueryAnswer({ status: 'error', errorType: 'bad_data', error: 'parse error' })).toEqual({
      error: 'prometheus: bad_data: parse error',
    });
  });
});

describe('prometheus probe over HTTP', () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  let lastUrl = '';
  beforeAll(async () => {
    srv = await startTestServer((req, res) => {
      lastUrl = req.url ?? '';
      if (req.url?.startsWith('/broken')) return void res.writeHead(502).end('<html>bad gateway</html>');
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ metric: {}, value: [1, '42'] }] },
        }),
      );
    });
  });
  afterAll(() => srv.close());

  it('sends the query url-encoded to /api/v1/query and returns the number', async () => {
    const s = await createPrometheusProbe('q', {
      url: srv.url,
      query: 'sum(rate(x{a="b"}[1m]))',
      timeoutMs: 2000,
    }).run(new AbortController().signal);
    expect(s).toMatchObject({ kind: 'prometheus', ok: true, value: 42 });
    expect(new URL(lastUrl, srv.url).pathname).toBe('/api/v1/query');
    expect(new URL(lastUrl, srv.url).searchParams.get('query')).toBe('sum(rate(x{a="b"}[1m]))');
  });

  it('fails clearly on a non-JSON answer', async () => {
    const s = await createPrometheusProbe('q', {
      url: `${srv.url}/broken`,
      query: 'up',
      timeoutMs: 2000,
    }).run(new AbortController().signal);
    expect(s.ok).toBe(false);
    expect(s.error).toContain('prometheus answered 502 with non-JSON');
  });
});
