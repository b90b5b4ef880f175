/**
 * The run cannot start as configured: an input that cannot be read, a --to that is not a directory,
 * a manifest that cannot be opened. Found before any work; the CLI reports it as a usage error.
 */
export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetupError';
  }
}
