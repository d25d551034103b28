/**
 * Pure helpers over request timestamps: the sandbox's rate limit and the benchmark's "most
 * requests seen in any window" both come from here.
 */

/** The most timestamps that fall inside any window of `windowMs` (inclusive start, exclusive end). */
export function maxInWindow(timestamps: readonly number[], windowMs: number): number {
  const sorted = [...timestamps].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end += 1) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/**
 * A sliding-window limit over admitted requests: `admit(now)` says whether one more fits and,
 * if not, how long until the oldest admitted request leaves the window.
 */
export class SlidingWindow {
  private readonly admitted: number[] = [];

  constructor(
    readonly max: number,
    readonly perMs: number,
  ) {}

  admit(now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    while (this.admitted.length > 0 && now - (this.admitted[0] as number) >= this.perMs)
      this.admitted.shift();
    if (this.admitted.length < this.max) {
      this.admitted.push(now);
      return { ok: true };
    }
    return { ok: false, retryAfterMs: (this.admitted[0] as number) + this.perMs - now };
  }
}
