// Writes protocol/experiment.schema.json from the zod schema: `node scripts/gen-schema.ts`.
// A unit test (protocol/experiment.test.ts) fails when the committed file is out of date.
import { writeFileSync } from 'node:fs';
import { experimentJsonSchema } from '../protocol/experiment.ts';

export const SCHEMA_FILE = new URL('../protocol/experiment.schema.json', import.meta.url);

/** The file's exact text: pretty JSON and a final newline. */
export function schemaFileText(): string {
  return `${JSON.stringify(experimentJsonSchema(), null, 2)}\n`;
}

if (import.meta.main) {
  writeFileSync(SCHEMA_FILE, schemaFileText());
  console.log(`wrote ${SCHEMA_FILE.pathname}`);
}
