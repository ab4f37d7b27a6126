import { defineConfig } from 'vitest/config';

// Cross-process tests start real servers; on a 2-core machine we keep file parallelism modest
// and give socket-level tests room (ms).
export default defineConfig({
  test: {
    include: [
      'protocol/**/*.test.ts',
      'proxy/**/*.test.ts',
      'controller/**/*.test.ts',
      'agent/**/*.test.ts',
      'cli/**/*.test.ts',
      'test/**/*.test.ts',
      'scripts/**/*.test.ts',
      'bench/**/*.test.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    pool: 'forks',
  },
});
