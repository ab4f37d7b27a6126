import { z } from 'zod';

/**
 * Checks a fault's section of docs/faults.md against its zod params schema: the section exists,
 * has a `| param | unit | default | meaning |` row for every parameter (stating the schema's
 * default, or "required" for a required one), and a `**Revert:**` line. Shared by the proxy and
 * agent fault conformance tests.
 */

/** The cells of one row of a fault's parameter table. */
interface ParamRow {
  unit: string;
  defaultValue: string;
  meaning: string;
}

/** One top-level parameter of a schema, as its JSON Schema (input side) describes it. */
interface SchemaParam {
  hasDefault: boolean;
  defaultValue: unknown;
  required: boolean;
}

/** Text from `heading` (a whole line) up to the next `##` or `###` heading; undefined when absent. */
export function docSection(doc: string, heading: string): string | undefined {
  const lines = doc.split('\n');
  const start = lines.indexOf(heading);
  if (start < 0) return undefined;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => /^#{2,3} /.test(l));
  return (end < 0 ? rest : rest.slice(0, end)).join('\n');
}

/** Rows of the section's parameter tables whose first cell is a `code` name, by that name. */
function paramRows(section: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const m = /^\|\s*`([^`]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (m)
      rows.set(
        m[1]!,
        m[2]!.split('|').map((c) => c.trim()),
      );
  }
  return rows;
}

function toRow(cells: string[]): ParamRow | undefined {
  if (cells.length !== 3) return undefined;
  return { unit: cells[0]!, defaultValue: cells[1]!, meaning: cells[2]! };
}

/** Top-level parameters of a params schema; the branches of a union are merged. */
function schemaParams(schema: z.ZodType): Map<string, SchemaParam> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonNode;
  const out = new Map<string, SchemaParam>();
  const union = (json.anyOf ?? json.oneOf) !== undefined;
  const walk = (node: JsonNode): void => {
    for (const [name, prop] of Object.entries(node.properties ?? {})) {
      out.set(name, {
        hasDefault: 'default' in prop,
        defaultValue: prop.default,
        // In a union a field is required by its branch only; the doc's cell names the branch.
        required: !union && (node.required ?? []).includes(name),
      });
    }
    for (const branch of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) walk(branch);
  };
  walk(json);
  return out;
}

interface JsonNode {
  properties?: Record<string, JsonNode & { default?: unknown }>;
  required?: string[];
  anyOf?: JsonNode[];
  oneOf?: JsonNode[];
}

/** What is missing or wrong in the section `heading` for a fault with `schema`; empty when complete. */
export function faultDocProblems(doc: string, heading: string, schema: z.ZodType): string[] {
  const section = docSection(doc, heading);
  if (section === undefined) return [`no "${heading}" section`];
  const problems: string[] = [];
  if (!/^\*\*Revert:\*\* \S/m.test(section)) problems.push('no "**Revert:**" line saying what revert does');
  const params = schemaParams(schema);
  if (params.size === 0 && !section.includes('No parameters')) problems.push('says nothing about parameters');
  if (params.size > 0 && !section.includes('| param | unit | default | meaning |'))
    problems.push('no "| param | unit | default | meaning |" table');
  const rows = paramRows(section);
  for (const [name, p] of params) {
    const cells = rows.get(name);
    if (!cells) {
      problems.push(`no table row for \`${name}\``);
      continue;
    }
    const row = toRow(cells);
    if (!row) {
      problems.push(`row \`${name}\` needs 4 cells: param, unit, default, meaning`);
      continue;
    }
    if (!row.unit || !row.meaning) problems.push(`row \`${name}\` has an empty unit or meaning`);
    if (p.hasDefault && !row.defaultValue.includes(String(p.defaultValue)))
      problems.push(`row \`${name}\` must give the default ${JSON.stringify(p.defaultValue)}`);
    if (p.required && !row.defaultValue.includes('required'))
      problems.push(`row \`${name}\` must say it is required`);
  }
  for (const name of rows.keys()) {
    if (!params.has(name)) problems.push(`row \`${name}\` is not a parameter of the schema`);
  }
  return problems;
}
