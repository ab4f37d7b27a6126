import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FaultlineError } from '../protocol/errors.ts';
import { ProxyConfig, type ProxyConfigInput } from '../protocol/proxy.ts';

/** `{proxies: [...]}` (Faultline) or a bare array (Toxiproxy's `-config` file). */
const ProxyConfigFile = z.union([z.strictObject({ proxies: z.array(ProxyConfig) }), z.array(ProxyConfig)]);

/**
 * Reads the proxies of a `--config` file, JSON or YAML (chosen by extension; anything else is read
 * as YAML, which also accepts JSON). Every error names the file.
 */
export async function loadProxyConfigFile(path: string): Promise<ProxyConfigInput[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new FaultlineError('INVALID_INPUT', `cannot read proxy config ${path}: ${(err as Error).message}`, {
      file: path,
    });
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new FaultlineError(
      'INVALID_INPUT',
      `${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
      {
        file: path,
      },
    );
  }
  const parsed = ProxyConfigFile.safeParse(data);
  if (!parsed.success) {
    throw new FaultlineError('INVALID_INPUT', `${path}: ${z.prettifyError(parsed.error)}`, {
      file: path,
      issues: parsed.error.issues,
    });
  }
  const proxies = Array.isArray(parsed.data) ? parsed.data : parsed.data.proxies;
  const names = new Set<string>();
  for (const p of proxies) {
    if (names.has(p.name))
      throw new FaultlineError('INVALID_INPUT', `${path}: proxy ${p.name} is defined twice`, { file: path });
    names.add(p.name);
  }
  return proxies;
}
