import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/harness/redis-global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Property tests are CPU-bound; two cores on CI.
    pool: 'forks',
    // A test that is skipped is a test that did not run: refuse `.skip`/`.todo` in committed code.
    allowOnly: false,
  },
});
