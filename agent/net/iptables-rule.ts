import { z } from 'zod';
import { FaultlineError } from '../../protocol/errors.ts';
import { mustRunIn, type Netns, runIn } from './netns.ts';

/**
 * One iptables DROP rule of ours in the filter table, exactly as added, so it can be deleted by
 * spec (`-D`) from a ledger record alone. The comment `faultline:<agentId>:<faultId>` is the tag a
 * sweep looks for.
 */
export const RuleSpec = z.strictObject({
  family: z.enum(['ipv4', 'ipv6']),
  chain: z.enum(['INPUT', 'OUTPUT']),
  /** Match arguments before the comment, e.g. `-p tcp -d 10.0.0.1/32 --dport 5432`. */
  match: z.array(z.string()),
  comment: z.string(),
});
export type RuleSpec = z.infer<typeof RuleSpec>;

/** How long iptables waits for the xtables lock another program holds, s. */
const LOCK_WAIT_S = '5';
const COMMENT_PREFIX = 'faultline:';

/** The tag of every rule one fault adds. Agent ids hold no `:`, so `faultline:<agentId>:` never matches another agent's. */
export function ruleComment(agentId: string, faultId: string): string {
  return `${COMMENT_PREFIX}${agentId}:${faultId}`;
}

function binary(family: RuleSpec['family']): string {
  return family === 'ipv4' ? 'iptables' : 'ip6tables';
}

function ruleArgv(op: '-I' | '-D' | '-C', rule: RuleSpec): string[] {
  return [
    binary(rule.family),
    '-w',
    LOCK_WAIT_S,
    op,
    rule.chain,
    ...rule.match,
    '-m',
    'comment',
    '--comment',
    rule.comment,
    '-j',
    'DROP',
  ];
}

/** iptables' words for "no such rule" on -C and -D (exit 1). */
function isNoSuchRule(stderr: string): boolean {
  return /does a matching rule exist|No chain\/target\/match by that name/.test(stderr);
}

/** Adds `rule` first in its chain unless it is there already (so a repeated apply adds it once). */
export async function addRule(ns: Netns, rule: RuleSpec): Promise<void> {
  const check = await runIn(ns, ruleArgv('-C', rule));
  if (check.code === 0) return;
  await mustRunIn(ns, ruleArgv('-I', rule));
}

/**
 * Deletes every copy of `rule` (bounded; there is one unless someone copied it). Resolves
 * `missing` when there was none. Any other failure throws FAULT_REVERT_FAILED.
 */
export async function deleteRule(ns: Netns, rule: RuleSpec): Promise<'deleted' | 'missing'> {
  for (let i = 0; i < 16; i++) {
    const r = await runIn(ns, ruleArgv('-D', rule));
    if (r.code === 0) continue;
    if (r.code === 1 && isNoSuchRule(r.stderr)) return i === 0 ? 'missing' : 'deleted';
    throw new FaultlineError(
      'FAULT_REVERT_FAILED',
      `${binary(rule.family)} -D in ${ns.label} exited ${r.code}: ${r.stderr.trim()}`,
      { netns: ns.label, rule },
    );
  }
  return 'deleted';
}

/** Splits one `iptables -S` line into words; double quotes group, backslash escapes. */
export function splitRuleLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === '"') {
      quoted = !quoted;
      inWord = true;
    } else if (/\s/.test(c) && !quoted) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * The filter-table rules in `ns` whose comment starts `faultline:<agentId>:`, as `-S` prints them
 * (`-A CHAIN ...`), for both families. A family whose tool fails (no IPv6 in that namespace) has none.
 */
export async function listOurRules(
  ns: Netns,
  agentId: string,
): Promise<{ family: RuleSpec['family']; words: string[] }[]> {
  const prefix = `${COMMENT_PREFIX}${agentId}:`;
  const found: { family: RuleSpec['family']; words: string[] }[] = [];
  for (const family of ['ipv4', 'ipv6'] as const) {
    const r = await runIn(ns, [binary(family), '-w', LOCK_WAIT_S, '-S']);
    if (r.code !== 0) continue;
    for (const line of r.stdout.split('\n')) {
      if (!line.startsWith('-A ')) continue;
      const words = splitRuleLine(line);
      const at = words.indexOf('--comment');
      if (at >= 0 && words[at + 1]?.startsWith(prefix)) found.push({ family, words });
    }
  }
  return found;
}

/** Deletes every rule of this agent in `ns` (after a crash lost the ledger); resolves how many. */
export async function sweepRules(ns: Netns, agentId: string): Promise<number> {
  let removed = 0;
  for (const { family, words } of await listOurRules(ns, agentId)) {
    const r = await runIn(ns, [binary(family), '-w', LOCK_WAIT_S, '-D', ...words.slice(1)]);
    if (r.code === 0) removed++;
  }
  return removed;
}
