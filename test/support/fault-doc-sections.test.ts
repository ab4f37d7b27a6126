import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { faultDocProblems } from './fault-doc-sections.ts';

const Params = z.strictObject({
  delayMs: z.number(),
  jitterMs: z.number().default(0),
});

const doc = (section: string) => `# Faults\n\n### tcp: x\n\n${section}\n\n### tcp: next\n\n**Revert:** n/a\n`;

const complete = [
  '| param | unit | default | meaning |',
  '|---|---|---|---|',
  '| `delayMs` | ms | required | added delay |',
  '| `jitterMs` | ms | 0 | spread |',
  '',
  '**Revert:** delayed chunks go on at once.',
].join('\n');

describe('faultDocProblems', () => {
  it('accepts a section with a row per parameter and a Revert line', () => {
    expect(faultDocProblems(doc(complete), '### tcp: x', Params)).toEqual([]);
  });

  it('names a missing section, a missing Revert line and a missing parameter row', () => {
    expect(faultDocProblems(doc(complete), '### tcp: y', Params)).toEqual(['no "### tcp: y" section']);
    expect(faultDocProblems(doc(complete.replace('**Revert:**', 'Revert:')), '### tcp: x', Params)).toEqual([
      'no "**Revert:**" line saying what revert does',
    ]);
    expect(
      faultDocProblems(doc(complete.replace('| `jitterMs` | ms | 0 | spread |\n', '')), '### tcp: x', Params),
    ).toEqual(['no table row for `jitterMs`']);
  });

  it('does not take a Revert line or a row from the next section', () => {
    const withoutRevert = complete.replace('\n**Revert:** delayed chunks go on at once.', '');
    expect(faultDocProblems(doc(withoutRevert), '### tcp: x', Params)).toContain(
      'no "**Revert:**" line saying what revert does',
    );
  });

  it('wants the unit column, the schema default, "required", and no rows for unknown parameters', () => {
    const twoColumns = complete.replace(
      '| `delayMs` | ms | required | added delay |',
      '| `delayMs` | added delay |',
    );
    expect(faultDocProblems(doc(twoColumns), '### tcp: x', Params)).toContain(
      'row `delayMs` needs 4 cells: param, unit, default, meaning',
    );
    const wrongDefault = complete.replace('| `jitterMs` | ms | 0 |', '| `jitterMs` | ms | none |');
    expect(faultDocProblems(doc(wrongDefault), '### tcp: x', Params)).toEqual([
      'row `jitterMs` must give the default 0',
    ]);
    const notRequired = complete.replace('| ms | required |', '| ms | 5 |');
    expect(faultDocProblems(doc(notRequired), '### tcp: x', Params)).toEqual([
      'row `delayMs` must say it is required',
    ]);
    const stale = `${complete}\n\n| \`oldMs\` | ms | 1 | gone |`;
    expect(faultDocProblems(doc(stale), '### tcp: x', Params)).toEqual([
      'row `oldMs` is not a parameter of the schema',
    ]);
  });

  it('wants "No parameters" for a fault without any', () => {
    const Empty = z.strictObject({});
    expect(faultDocProblems(doc('**Revert:** nothing held.'), '### tcp: x', Empty)).toEqual([
      'says nothing about parameters',
    ]);
    expect(
      faultDocProblems(doc('No parameters (`{}`).\n\n**Revert:** nothing held.'), '### tcp: x', Empty),
    ).toEqual([]);
  });
});
