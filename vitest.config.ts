import { defineConfig } from "vitest/config";

// Two projects: fast unit tests next to the code, and end-to-end tests in test/
// that spawn the real api and worker processes. The machine has 2 cores, so
// e2e files run one at a time (each starts several Node processes).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts"],
          testTimeout: 20_000,
          hookTimeout: 20_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
