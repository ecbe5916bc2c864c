/** Wall-clock waits of the live campaigns: live processes run on wall time, there is no clock to step. */

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` every `everyMs` until it is true (→ true) or `withinMs` passed (→ false). A probe that
 * throws counts as not yet: the campaigns report what they waited for, they do not crash on a read.
 */
export async function untilOr(withinMs: number, probe: () => boolean | Promise<boolean>, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const ok = await Promise.resolve()
      .then(probe)
      .catch(() => false);
    if (ok) return true;
    if (Date.now() >= deadline) return false;
    await pause(everyMs);
  }
}
