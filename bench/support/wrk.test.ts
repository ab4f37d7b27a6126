import { describe, expect, it } from 'vitest';
import { parseWrk } from './wrk.ts';

const SAMPLE = `Running 5s test @ http://127.0.0.1:8080/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02ms  200.00us   5.00ms   90.00%
    Req/Sec    31.00k     1.00k   33.00k    80.00%
  Latency Distribution
     50%  980.00us
     75%    1.10ms
     90%    1.20ms
     99%    2.50ms
  155000 requests in 5.00s, 20.00MB read
  Socket errors: connect 1, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 5
Requests/sec:  31000.50
Transfer/sec:      4.00MB
`;

describe('parseWrk', () => {
  it('reads throughput, percentiles in µs and error counts from wrk --latency output', () => {
    expect(parseWrk(SAMPLE)).toEqual({
      requestsPerSec: 31000.5,
      requests: 155000,
      p50Us: 980,
      p75Us: 1100,
      p90Us: 1200,
      p99Us: 2500,
      socketErrors: 6,
      non2xx: 5,
    });
  });

  it('counts no errors when wrk prints no error lines, and reads seconds', () => {
    const clean = SAMPLE.replace(/ {2}Socket errors.*\n/, '')
      .replace(/ {2}Non-2xx.*\n/, '')
      .replace('2.50ms', '1.20s');
    const r = parseWrk(clean);
    expect(r.socketErrors).toBe(0);
    expect(r.non2xx).toBe(0);
    expect(r.p99Us).toBe(1_200_000);
  });

  it('fails loudly on output without a latency distribution', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused')).toThrow(/wrk/);
  });
});
