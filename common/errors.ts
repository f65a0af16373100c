/** Errors every part may throw at its edge. */

/** A command was used wrongly (unknown flag, missing value, bad argument): printed with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
