import { z } from 'zod';
import type { HttpFault } from '../../http/http-fault.ts';
import { ThrottleStream } from '../../http/throttle-stream.ts';
import type { FaultDefinition } from '../fault-definition.ts';

export const BandwidthParams = z.strictObject({
  /** Most body bytes per second, in KB/s (1 KB = 1000 bytes). */
  rateKbPerSec: z.number().positive(),
});
export type BandwidthParams = z.infer<typeof BandwidthParams>;

export const bandwidthFault: FaultDefinition<BandwidthParams, HttpFault> = {
  type: 'bandwidth',
  mode: 'http',
  summary: 'Throttles the response body (downstream) or the request body (upstream) to rateKbPerSec.',
  params: BandwidthParams,
  directions: ['upstream', 'downstream'],
  example: { rateKbPerSec: 8 },
  create(params): HttpFault {
    const bytesPerSec = params.rateKbPerSec * 1000;
    return { throttle: () => new ThrottleStream(bytesPerSec) };
  },
};
