/**
 * Polls `probe` until it returns something other than undefined, and returns that. Fails after
 * `withinMs` of wall time, naming what was awaited and what was last seen, so a failure says why.
 * Live supervisor processes run on wall time: there is no clock to step, only deadlines to keep.
 */
export async function eventually<T>(
  what: string,
  withinMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
  options: { everyMs?: number; lastSeen?: () => unknown } = {},
): Promise<T> {
  const deadline = Date.now() + withinMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const seen = options.lastSeen ? `; last seen: ${JSON.stringify(options.lastSeen())}` : '';
      const why = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`not within ${withinMs} ms: ${what}${seen}${why}`);
    }
    await sleep(options.everyMs ?? 50);
  }
}

/** Thrown by a probe when waiting longer cannot help (a process died): `eventually` stops at once. */
export class GiveUp extends Error {}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
