import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, FaultlineError } from './errors.ts';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

/** `## CODE` sections of docs/errors.md, each with the text up to the next section. */
function sections(): Map<string, string> {
  const out = new Map<string, string>();
  const parts = doc.split(/^## /m).slice(1);
  for (const part of parts) {
    const [title, ...rest] = part.split('\n');
    out.set(title!.trim(), rest.join('\n'));
  }
  return out;
}

describe('docs/errors.md', () => {
  it('has a section for every error code, with its HTTP status and an example body', () => {
    const docSections = sections();
    for (const [code, status] of Object.entries(ERROR_CODES)) {
      const text = docSections.get(code);
      expect(text, `docs/errors.md has no "## ${code}" section`).toBeDefined();
      expect(text, `section ${code} must state HTTP ${status}`).toContain(`HTTP ${status}`);
      expect(text, `section ${code} needs a JSON example`).toContain(`"code": "${code}"`);
    }
  });

  it('documents no code that does not exist', () => {
    for (const title of sections().keys()) expect(Object.keys(ERROR_CODES)).toContain(title);
  });
});

describe('FaultlineError', () => {
  it('carries the status of its code and serialises to the HTTP body', () => {
    const err = new FaultlineError('LEASE_EXPIRED', 'gone', { id: 'f' });
    expect(err.statusCode).toBe(410);
    expect(err.toBody()).toEqual({ code: 'LEASE_EXPIRED', message: 'gone', details: { id: 'f' } });
  });
});
