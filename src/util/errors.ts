/** Exit codes, the same for every subcommand. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A usage or configuration error: the message names what is wrong and where; exit code 2. */
export class UsageError extends Error {
  readonly exitCode = EXIT_USAGE;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A configuration error: exit code 2, nothing else happens. */
export class ConfigError extends UsageError {
  constructor(message: string, readonly problems: string[] = [message]) {
    super(message);
    this.name = 'ConfigError';
  }
}
