import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { HOST_NETNS, NETNS_DIR, type Netns } from './netns.ts';

function inodeOfPath(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** `net:[4026531840]` → 4026531840. */
function inodeOfProcess(pid: string): number | undefined {
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/net`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // exited, or a kernel thread
  }
}

/**
 * Every network namespace a sweep looks in, each once: the agent's own, every named one
 * (`ip netns list`), and every one some process lives in (containers, `pid:` targets), entered
 * through one of its processes. Namespaces are told apart by inode, so a named namespace that a
 * process also lives in is visited once.
 */
export function allNetns(): Netns[] {
  const seen = new Set<number>();
  const out: Netns[] = [];
  const add = (inode: number | undefined, ns: Netns) => {
    if (inode === undefined || seen.has(inode)) return;
    seen.add(inode);
    out.push(ns);
  };
  add(inodeOfPath('/proc/self/ns/net'), HOST_NETNS);
  let names: string[] = [];
  try {
    names = readdirSync(NETNS_DIR);
  } catch {
    // no named namespaces on this host
  }
  for (const name of names) {
    add(inodeOfPath(`${NETNS_DIR}/${name}`), {
      label: `netns:${name}`,
      prefix: ['ip', 'netns', 'exec', name],
    });
  }
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const path = `/proc/${pid}/ns/net`;
    add(inodeOfProcess(pid), { label: `pid:${pid}`, prefix: ['nsenter', `--net=${path}`, '--'] });
  }
  return out;
}
