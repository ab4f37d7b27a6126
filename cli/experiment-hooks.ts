import { agentFaultRegistry } from '../agent/faults/registry.ts';
import type { ExperimentParseOptions } from '../protocol/experiment.ts';
import type { ProxyMode } from '../protocol/proxy.ts';
import { faultRegistry } from '../proxy/faults/registry.ts';

/**
 * Fault types and params of an experiment are checked with the proxy's and the agent's own
 * registries: the same schemas that apply them. `validate`, `plan` and `run` share these hooks, so
 * a file `validate` accepts is one `run` accepts. (Agents advertise their faults again at run
 * time; the engine checks those before anything is applied.)
 */
export const experimentFaultHooks: ExperimentParseOptions = {
  faultParams: (mode: ProxyMode, type: string) => faultRegistry[mode].get(type)?.params,
  faultTypes: (mode: ProxyMode) => [...faultRegistry[mode].keys()],
  agentFault: (type: string) => agentFaultRegistry.get(type),
  agentFaultTypes: () => [...agentFaultRegistry.keys()],
};
