import { connect } from 'node:net';
import type { z } from 'zod';
import type { TcpProbe as TcpProbeSpec } from '../../../protocol/experiment-probes.ts';
import { parseHostPort } from '../../../protocol/host-port.ts';
import { describeError, elapsedMs, type Probe, type ProbeSample } from './probe.ts';

/** Opens one TCP connection and closes it: ok when the connect completes within the timeout. */
export function createTcpProbe(name: string, spec: z.infer<typeof TcpProbeSpec>): Probe {
  const { host, port } = parseHostPort(spec.address);
  return {
    name,
    kind: 'tcp',
    run(signal) {
      const at = Date.now();
      const start = process.hrtime.bigint();
      return new Promise<ProbeSample>((resolve) => {
        const socket = connect({ host, port });
        let done = false;
        const finish = (error?: string) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          socket.destroy();
          const sample: ProbeSample = {
            probe: name,
            kind: 'tcp',
            ok: error === undefined,
            at,
            latencyMs: elapsedMs(start),
          };
          resolve(error === undefined ? sample : { ...sample, error });
        };
        const onAbort = () => finish('aborted');
        const timer = setTimeout(() => finish(`no connection within ${spec.timeoutMs} ms`), spec.timeoutMs);
        if (signal.aborted) return finish('aborted');
        signal.addEventListener('abort', onAbort, { once: true });
        socket.once('connect', () => finish());
        socket.once('error', (err) => finish(describeError(err)));
      });
    },
  };
}
