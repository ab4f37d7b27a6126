import type { ProxyMode } from '../../protocol/proxy.ts';
import type { FaultDefinition } from './fault-definition.ts';
import { httpFaults } from './http/index.ts';
import { tcpFaults } from './tcp/index.ts';

function byType(
  defs: readonly FaultDefinition<unknown, unknown>[],
): ReadonlyMap<string, FaultDefinition<unknown, unknown>> {
  return new Map(defs.map((d) => [d.type, d]));
}

/** Every proxy fault type, by mode then name. Adding a fault is one line in tcp/ or http/ index.ts. */
export const faultRegistry: Record<ProxyMode, ReadonlyMap<string, FaultDefinition<unknown, unknown>>> = {
  tcp: byType(tcpFaults),
  http: byType(httpFaults),
};
