import { isFaultlineError } from '../protocol/errors.ts';

/** A subcommand: parses its own arguments and returns the process exit code. */
export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

// Loaded lazily so `faultline proxy` never loads the engine (and the reverse).
const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  proxy: () => import('./commands/proxy.ts'),
  demo: () => import('./commands/demo.ts'),
  validate: () => import('./commands/validate.ts'),
  plan: () => import('./commands/plan.ts'),
  run: () => import('./commands/run.ts'),
  schema: () => import('./commands/schema.ts'),
  agent: () => import('./commands/agent.ts'),
};

async function usage(): Promise<string> {
  const lines = ['usage: faultline <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const summary = await load().then(
      (m) => m.command.summary,
      () => '(not available in this build)',
    );
    lines.push(`  ${name.padEnd(10)} ${summary}`);
  }
  lines.push('', 'Run `faultline <command> --help` for its options.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`faultline: unknown command "${name}"\n\n${await usage()}`);
    return 2;
  }
  const { command } = await load();
  return command.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (isFaultlineError(err)) {
    console.error(`faultline: ${err.code}: ${err.message}`);
    process.exitCode = err.code === 'INVALID_INPUT' || err.code === 'INVALID_EXPERIMENT' ? 2 : 4;
  } else {
    console.error(err);
    process.exitCode = 4;
  }
}
