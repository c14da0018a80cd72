// Turns every expected failure into one clear line and a non-zero exit code.
import { FormatError, UnsupportedError, TlmFormatError, BudgetError } from "../compile.ts";
import { EngineError } from "../runners/engine-status.ts";
import { BoardError as BoardConfigError } from "../board/boards.ts";
import { BoardError, BoardTimeoutError } from "../board/link.ts";
import { BuildError } from "../board/build.ts";
import { SourceError } from "../stream/sources.ts";
import { TransportError } from "../board/transport.ts";

/** A mistake in how the command was called (exit code 2). */
export class UsageError extends Error {}

const KNOWN = [FormatError, UnsupportedError, TlmFormatError, BudgetError, EngineError, UsageError, BoardConfigError, BoardError, BoardTimeoutError, BuildError, SourceError, TransportError];

export function exitWithError(e: unknown): never {
  const err = e instanceof Error ? e : new Error(String(e));
  if (KNOWN.some((k) => err instanceof k)) {
    process.stderr.write(`tinyloop: error: ${err.message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
  process.stderr.write(`tinyloop: internal error: ${err.stack ?? err.message}\nPlease report this with the command you ran.\n`);
  process.exit(70);
}
