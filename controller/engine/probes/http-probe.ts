import { request } from 'undici';
import type { z } from 'zod';
import type { HttpProbe as HttpProbeSpec } from '../../../protocol/experiment-probes.ts';
import {
  describeError,
  elapsedMs,
  MAX_CAPTURE_BYTES,
  type Probe,
  type ProbeSample,
  withTimeout,
} from './probe.ts';

/** Sends one HTTP request (undici) and records status, headers, body and time to the full body. */
export function createHttpProbe(name: string, spec: z.infer<typeof HttpProbeSpec>): Probe {
  return {
    name,
    kind: 'http',
    async run(signal) {
      const at = Date.now();
      const start = process.hrtime.bigint();
      const base: ProbeSample = { probe: name, kind: 'http', ok: false, at };
      try {
        const res = await request(spec.url, {
          method: spec.method.toUpperCase() as 'GET',
          headers: spec.headers,
          body: spec.body,
          signal: withTimeout(signal, spec.timeoutMs),
          headersTimeout: spec.timeoutMs,
          bodyTimeout: spec.timeoutMs,
        });
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body) {
          if (size < MAX_CAPTURE_BYTES) chunks.push(chunk as Buffer);
          size += (chunk as Buffer).length;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
        }
        return {
          ...base,
          ok: true,
          latencyMs: elapsedMs(start),
          status: res.statusCode,
          headers,
          body: Buffer.concat(chunks).subarray(0, MAX_CAPTURE_BYTES).toString('utf8'),
        };
      } catch (err) {
        const timedOut = !signal.aborted && elapsedMs(start) >= spec.timeoutMs - 1;
        return {
          ...base,
          latencyMs: elapsedMs(start),
          error: timedOut ? `no response within ${spec.timeoutMs} ms` : describeError(err),
        };
      }
    },
  };
}
