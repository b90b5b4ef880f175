import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // CLI tests spawn processes with worker pools; two cores do not need more test files at once.
    maxWorkers: 2,
  },
});
