import type { Logger } from '../listener.ts';
import type { ProxyMetrics } from '../metrics/proxy-metrics.ts';
import type { ProxyManager } from '../proxy-manager.ts';

/** What every admin route plugin gets: one object, passed as the plugin's options. */
export interface AdminContext {
  manager: ProxyManager;
  metrics: ProxyMetrics;
  /** Faultline's version, reported by /faultline/health and /version. */
  version: string;
  log: Logger;
}
