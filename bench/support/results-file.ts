import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** bench/RESULTS.md, shared by every benchmark; each owns one section between its markers. */
export const RESULTS_PATH = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

function markers(name: string): { open: string; close: string } {
  return { open: `<!-- bench:${name} -->`, close: `<!-- /bench:${name} -->` };
}

/**
 * Replaces the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` with `body`,
 * keeping every other section as it is; appends the section when it is not there yet.
 * Writes through a temp file and a rename so a reader never sees a half-written file.
 */
export function replaceSection(document: string, name: string, body: string): string {
  const { open, close } = markers(name);
  const block = `${open}\n${body.trim()}\n${close}`;
  const start = document.indexOf(open);
  const end = document.indexOf(close);
  if (start === -1 || end === -1 || end < start) {
    return `${document.trimEnd()}\n\n${block}\n`;
  }
  return document.slice(0, start) + block + document.slice(end + close.length);
}

export function writeResultsSection(name: string, body: string, path = RESULTS_PATH): void {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = '# Faultline benchmark results\n';
  }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, replaceSection(current, name, body));
  renameSync(tmp, path);
}
