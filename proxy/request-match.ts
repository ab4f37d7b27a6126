import type { FaultMatch } from '../protocol/proxy.ts';

/** The parts of an HTTP request that matching looks at. Header names are lower-case. */
export interface RequestFacts {
  method: string;
  /** Path without the query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
}

export type RequestMatcher = (req: RequestFacts) => boolean;

/** `*` = any run of characters but `/`, `**` = any run including `/`, `?` = one character. */
export function globToRegExp(glob: string, slashIsSpecial = true): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += slashIsSpecial ? '[^/]*' : '.*';
    } else if (ch === '?') re += slashIsSpecial ? '[^/]' : '.';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function headerValue(headers: RequestFacts['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Compiles a match rule once; the returned function is on the per-request hot path. */
export function compileMatch(match: FaultMatch | undefined): RequestMatcher {
  if (!match) return () => true;
  const checks: RequestMatcher[] = [];
  if (match.methods) {
    const methods = new Set(match.methods.map((m) => m.toUpperCase()));
    checks.push((r) => methods.has(r.method.toUpperCase()));
  }
  if (match.path) {
    const re = globToRegExp(match.path);
    checks.push((r) => re.test(r.path));
  }
  for (const [name, glob] of Object.entries(match.headers ?? {})) {
    const key = name.toLowerCase();
    const re = globToRegExp(glob, false);
    checks.push((r) => {
      const v = headerValue(r.headers, key);
      return v !== undefined && re.test(v);
    });
  }
  if (match.tenant) {
    const key = match.tenant.header.toLowerCase();
    const values = new Set(match.tenant.values);
    checks.push((r) => {
      const v = headerValue(r.headers, key);
      return v !== undefined && values.has(v);
    });
  }
  return (r) => {
    for (const check of checks) if (!check(r)) return false;
    return true;
  };
}
