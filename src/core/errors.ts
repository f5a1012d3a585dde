/**
 * One error model for the whole project: every failure a user can cause or meet is an
 * ImageError with a stable code, a one-line message that names the value, and a hint.
 */

export type ExitCode = 1 | 2;

export interface ImageErrorOptions {
  /** What the user can do about it; printed after the message on the same line. */
  readonly hint?: string | undefined;
  /** 2 for usage errors (bad flags, unknown format), 1 for everything else. */
  readonly exitCode?: ExitCode;
  readonly cause?: unknown;
  /** Extra lines printed below the one-line summary (for example a command's stderr). */
  readonly details?: string | undefined;
}

export class ImageError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  readonly details: string | undefined;

  constructor(code: string, message: string, options: ImageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ImageError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
    this.details = options.details;
  }

  /** The single line shown to users: message, then the hint. */
  oneLine(): string {
    return this.hint === undefined ? this.message : `${this.message}; ${this.hint}`;
  }
}

export class UsageError extends ImageError {
  constructor(code: string, message: string, options: Omit<ImageErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...options, exitCode: 2 });
    this.name = 'UsageError';
  }
}

/** Raised when the user interrupts a build; the CLI maps it to exit status 130. */
export class InterruptedError extends ImageError {
  constructor(signal: string) {
    super('build.interrupted', `Build interrupted by ${signal}`, {
      hint: 'no partial output was left at the output path',
    });
    this.name = 'InterruptedError';
  }
}

export function assert(condition: unknown, code: string, message: string): asserts condition {
  if (!condition) throw new ImageError(code, `Internal error: ${message}`);
}
