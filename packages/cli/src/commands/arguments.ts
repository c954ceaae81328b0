/**
 * Argument parsers for commander: each validates one kind of value with the shared
 * rules and throws commander's InvalidArgumentError, which the program reports as a
 * usage error (exit 2) before any request is sent.
 */

import { CELL_NAME_RULE_TEXT, isSafeFileName, isValidCellName, isValidSnapshotName } from "@cellport/shared";
import { InvalidArgumentError } from "commander";
import { UsageError } from "../errors.ts";
import { profileByName } from "../seed-profiles.ts";
import { parseDuration, parseInteger, parseNumber, parseSize } from "../units.ts";

/** Adapts a parser that throws UsageError to commander's convention. */
export function parser<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (error) {
      if (error instanceof UsageError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

export const cellArgument = parser((text: string) => {
  if (!isValidCellName(text)) {
    throw new UsageError(`Expected a cell name matching ${CELL_NAME_RULE_TEXT}, got \`${text}\``);
  }
  return text;
});

export const cellListArgument = parser((text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((name) => cellArgument(name)),
);

/** A snapshot `Name`; a trailing `.zip` is dropped, as users often paste the file name. */
export const snapshotNameArgument = parser((text: string) => {
  const name = text.endsWith(".zip") ? text.slice(0, -4) : text;
  if (!isValidSnapshotName(name)) {
    throw new UsageError(
      `Expected a snapshot name of 1-192 letters, digits, \`-\` or \`_\`, got \`${text}\``,
    );
  }
  return name;
});

export const fileNameArgument = parser((text: string) => {
  if (!isSafeFileName(text)) throw new UsageError(`Expected a file name (one path segment), got \`${text}\``);
  return text;
});

export const sizeArgument = parser(parseSize);
export const durationArgument = parser(parseDuration);
export const integerArgument = (name: string, min = 0, max?: number) =>
  parser((text: string) => parseInteger(text, name, min, max));
export const numberArgument = (name: string, min: number, max: number) =>
  parser((text: string) => parseNumber(text, name, min, max));

export const profileArgument = parser((text: string) => {
  profileByName(text);
  return text;
});
