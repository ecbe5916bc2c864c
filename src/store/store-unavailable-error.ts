/**
 * The store cannot be reached (connection lost, not yet connected, or closed). Writes reject with it at
 * once instead of queueing, so a caller never believes a stopout was written when it was not.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly operation: string;

  constructor(operation: string, reason: string) {
    super(`stopout store unavailable: cannot ${operation}: ${reason}`);
    this.operation = operation;
  }
}
