import { experimentJsonSchema } from '../../protocol/experiment.ts';
import type { Command } from '../main.ts';

export const command: Command = {
  summary: 'print the JSON Schema of experiment files (for editors)',
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      console.log('usage: faultline schema\n\nPrints the JSON Schema of an experiment file to stdout.');
      return 0;
    }
    if (argv.length > 0) {
      console.error(`faultline schema: unexpected argument "${argv[0]}"`);
      return 2;
    }
    process.stdout.write(`${JSON.stringify(experimentJsonSchema(), null, 2)}\n`);
    return 0;
  },
};
