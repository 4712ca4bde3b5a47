import { defineConfig } from 'vitest/config';

// Two tiers. unit: fast, no root, no namespaces (`npm run test:unit`). system: every step
// run as a learner runs it, each in a throwaway sandbox host, as root (`sudo npm test`
// runs both); its pages (test/report/: the matrix's and the bench's, in a browser) last.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], sequence: { groupOrder: 0 } } },
      {
        test: {
          name: 'system',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', 'test/report/**'],
          globalSetup: ['test/harness/global-setup.ts'],
          // Two files at once, five tests of each at a time: the tests mostly wait on
          // the steps they run, so the cores stay busy (vitest's default: cores - 1).
          maxWorkers: 2,
          maxConcurrency: 5,
          sequence: { groupOrder: 1 }, // after the unit tier (projects with their own maxWorkers need an order)
          testTimeout: 60_000 * (Number(process.env.CFS_TEST_TIME_SCALE) || 1), // as test/harness/sandbox.ts's TIME_SCALE
        },
      },
      {
        // Also as root, but alone and last: test/report/ runs `npm run matrix` and `npm run
        // bench`, which check that the machine is as they found it, and would see the
        // cgroups of the other files' sandboxes come and go.
        test: { name: 'pages', include: ['test/report/**/*.test.ts'], maxWorkers: 1, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
