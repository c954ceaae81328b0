/** Size profiles for seeded cells: what `loadtest --profile` and `bench` generate. */
import { UsageError } from "./errors.ts";

export interface SeedProfile {
  boxes: number;
  /** Documents of each entity type except Box (see SeedOptions.entitiesPerType). */
  entitiesPerType: number;
  files: number;
  /** Total bytes of file content. */
  bytes: number;
  /** Share of file bytes that is compressible text (the rest is random bytes). */
  textRatio: number;
}

const MB = 1024 ** 2;

export const PROFILES = {
  tiny: { boxes: 1, entitiesPerType: 2, files: 5, bytes: 64 * 1024, textRatio: 0.5 },
  small: { boxes: 2, entitiesPerType: 20, files: 50, bytes: 2 * MB, textRatio: 0.5 },
  medium: { boxes: 3, entitiesPerType: 100, files: 300, bytes: 30 * MB, textRatio: 0.5 },
  large: { boxes: 5, entitiesPerType: 500, files: 2_000, bytes: 200 * MB, textRatio: 0.5 },
} as const satisfies Record<string, SeedProfile>;

export type ProfileName = keyof typeof PROFILES;

export function profileByName(name: string): SeedProfile {
  const profile = (PROFILES as Record<string, SeedProfile>)[name];
  if (!profile) {
    throw new UsageError(`Expected a profile of ${Object.keys(PROFILES).join(", ")}, got \`${name}\``);
  }
  return { ...profile };
}
