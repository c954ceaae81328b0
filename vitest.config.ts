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
          sequence: { groupOrder: 0 },
          include: ["packages/*/src/**/*.test.ts"],
          testTimeout: 20_000,
          hookTimeout: 20_000,
        },
      },
      {
        test: {
          name: "e2e",
          sequence: { groupOrder: 1 },
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e-cluster",
          sequence: { groupOrder: 2 },
          // The end-to-end flows again, on a three-master Redis Cluster. faults.test.ts
          // manages Redis servers of its own, cluster.test.ts and sentinel.test.ts make
          // their own topology.
          include: ["test/**/*.test.ts"],
          exclude: [
            "**/node_modules/**",
            "test/faults.test.ts",
            "test/cluster.test.ts",
            "test/sentinel.test.ts",
          ],
          globalSetup: ["test/global-setup.ts", "test/cluster-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
