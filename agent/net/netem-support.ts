import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { gunzipSync } from 'node:zlib';

/**
 * Whether this kernel can run the `netem` qdisc: `yes` (module loaded, built in, or a module file
 * `tc` will load), `no` (the kernel config says it is not set), or `unknown` (no config to read and
 * no module found; the caller tries and reads tc's error).
 */
export type NetemSupport = 'yes' | 'no' | 'unknown';

function configValue(): string | undefined {
  try {
    const config = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
    const m = /^(?:CONFIG_NET_SCH_NETEM=(\w)|# CONFIG_NET_SCH_NETEM is not set)$/m.exec(config);
    return m ? (m[1] ?? 'n') : undefined;
  } catch {
    return undefined; // no /proc/config.gz (CONFIG_IKCONFIG_PROC off)
  }
}

function hasModuleFile(): boolean {
  const dir = `/lib/modules/${release()}/kernel/net/sched`;
  try {
    return readdirSync(dir).some((f) => f.startsWith('sch_netem.ko'));
  } catch {
    return false;
  }
}

/** Reads the kernel's config and module tree; no side effects (nothing is loaded or added). */
export function netemSupport(): NetemSupport {
  if (existsSync('/sys/module/sch_netem')) return 'yes';
  const config = configValue();
  if (config === 'y') return 'yes';
  if (config === 'm') return hasModuleFile() ? 'yes' : 'no';
  if (config === 'n') return 'no';
  return hasModuleFile() ? 'yes' : 'unknown';
}

/** tc's words when the kernel has no such qdisc kind. */
export function isUnknownQdiscKind(message: string): boolean {
  return /Specified qdisc kind is unknown|Unknown qdisc/i.test(message);
}
