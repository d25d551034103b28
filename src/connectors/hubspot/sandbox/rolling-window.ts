/**
 * A rolling-window limit like HubSpot's TEN_SECONDLY_ROLLING policy: at most `max` requests in
 * any `perMs` span. Rejected requests are not counted.
 */
export class RollingWindow {
  private hits: number[] = [];

  constructor(
    public max: number,
    public perMs: number,
  ) {}

  private prune(now: number): void {
    let drop = 0;
    while (drop < this.hits.length && now - (this.hits[drop] as number) >= this.perMs) drop++;
    if (drop > 0) this.hits = this.hits.slice(drop);
  }

  /** Counts the request when there is room; else says how long until there is. */
  take(now: number): { ok: true; remaining: number } | { ok: false; retryAfterMs: number } {
    this.prune(now);
    if (this.hits.length >= this.max) {
      return { ok: false, retryAfterMs: Math.max(1, (this.hits[0] as number) + this.perMs - now) };
    }
    this.hits.push(now);
    return { ok: true, remaining: this.max - this.hits.length };
  }

  remaining(now: number): number {
    this.prune(now);
    return Math.max(0, this.max - this.hits.length);
  }
}
