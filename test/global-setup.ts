/**
 * End-to-end tests run the processes as users run them: the bundles. Build them
 * first when a source file is newer (`npm test` has done so already via bootstrap;
 * this covers `npx vitest run test/…` during development).
 */
export default async function setup(): Promise<void> {
  // @ts-expect-error — a plain .mjs script without type declarations
  const { build } = (await import("../scripts/build.mjs")) as {
    build(options: { ifStale: boolean; quiet: boolean }): Promise<boolean>;
  };
  await build({ ifStale: true, quiet: true });
}
