import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ExperimentError,
  formatExperimentError,
  parseExperimentText,
} from '../../protocol/experiment-parse.ts';
import { experimentFaultHooks } from '../experiment-hooks.ts';
import type { Command } from '../main.ts';

const USAGE = `usage: faultline validate <file|dir>...

Checks experiment files (YAML, or JSON by extension) against the schema, the cross-references
between fields and the proxy and agent fault types' parameters. Directories are read for *.yaml, *.yml, *.json.
Prints \`ok  <file>\` or one \`file:line:col: path: message\` line per problem.
Exit code: 0 when every file is valid, 2 otherwise.`;

const EXPERIMENT_FILE = /\.(ya?ml|json)$/i;

function expand(arg: string): string[] {
  try {
    if (statSync(arg).isDirectory()) {
      return readdirSync(arg)
        .filter((f) => EXPERIMENT_FILE.test(f))
        .sort()
        .map((f) => join(arg, f));
    }
  } catch {
    // Reported as unreadable by validateFile.
  }
  return [arg];
}

function validateFile(file: string): ExperimentError[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    return [{ file, line: 1, col: 1, path: '', message: `cannot read file (${reason})` }];
  }
  const result = parseExperimentText(text, file, experimentFaultHooks);
  return result.ok ? [] : result.errors;
}

export const command: Command = {
  summary: 'check experiment files: schema, references, fault parameters',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log(USAGE);
      return 0;
    }
    const unknownFlag = argv.find((a) => a.startsWith('-'));
    if (unknownFlag) {
      console.error(`faultline validate: unknown option "${unknownFlag}"\n\n${USAGE}`);
      return 2;
    }
    const files = argv.flatMap(expand);
    if (files.length === 0) {
      console.error(USAGE);
      return 2;
    }
    let invalid = 0;
    for (const file of files) {
      const errors = validateFile(file);
      if (errors.length === 0) {
        console.log(`ok  ${file}`);
        continue;
      }
      invalid++;
      for (const e of errors) console.error(formatExperimentError(e));
    }
    if (files.length > 1) console.error(`${files.length - invalid} of ${files.length} files valid`);
    return invalid === 0 ? 0 : 2;
  },
};
