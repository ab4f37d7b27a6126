import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replaceSection, writeResultsSection } from './results-file.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('RESULTS.md sections', () => {
  const doc = [
    '# Results',
    '<!-- bench:a -->',
    'old a',
    '<!-- /bench:a -->',
    '',
    '<!-- bench:b -->',
    'b stays',
    '<!-- /bench:b -->',
    '',
  ].join('\n');

  it('replaces only the named section and keeps the others byte for byte', () => {
    const out = replaceSection(doc, 'a', 'new a\nline 2');
    expect(out).toContain('<!-- bench:a -->\nnew a\nline 2\n<!-- /bench:a -->');
    expect(out).not.toContain('old a');
    expect(out.slice(out.indexOf('<!-- bench:b -->'))).toBe(doc.slice(doc.indexOf('<!-- bench:b -->')));
  });

  it('appends a section that is not there yet', () => {
    const out = replaceSection(doc, 'c', 'fresh');
    expect(out.startsWith(doc.trimEnd())).toBe(true);
    expect(out.endsWith('<!-- bench:c -->\nfresh\n<!-- /bench:c -->\n')).toBe(true);
  });

  it('rewrites the file in place and leaves no temp file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    dirs.push(dir);
    const path = join(dir, 'RESULTS.md');
    writeFileSync(path, doc);
    writeResultsSection('b', 'b changed', path);
    writeResultsSection('b', 'b changed twice', path);
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('b changed twice');
    expect(text.match(/bench:b -->/g)).toHaveLength(2);
    expect(text).toContain('old a');
  });
});
