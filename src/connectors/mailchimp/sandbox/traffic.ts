/**
 * What the sandbox measures and enforces per account: a sliding one-second request budget
 * (429 past it), Mailchimp's cap on simultaneous connections (429 past it), and a log of every
 * request with its arrival time, so a benchmark can ask for the most requests in any window.
 */
export interface RequestLogEntry {
  /** Arrival, ms on a monotonic clock (performance.now()). */
  t: number;
  /** Arrival, wall clock (epoch ms). */
  at: number;
  method: string;
  path: string;
  account: string | null;
  /** 0 for a connection closed without an answer (a `drop` fault). */
  status: number;
  durationMs: number;
  /** Requests of the account in flight when this one arrived, itself included. */
  inFlight: number;
}

export interface Limits {
  /** Requests per second per account; null for no limit. */
  perSecond: number | null;
  /** Simultaneous requests per account (Mailchimp: 10). */
  maxConnections: number;
  /** Added to every answer. */
  latencyMs: number;
  /**
   * How long a submitted batch (POST /batches) stays `pending` before its operations run; 0
   * starts it on the next turn of the event loop. To keep batches pending for as long as a test
   * needs, use `faults.holdBatches(true)` rather than a large delay.
   */
  batchDelayMs: number;
}

export class Traffic {
  readonly log: RequestLogEntry[] = [];
  private windows = new Map<string, number[]>();
  private inFlight = new Map<string, number>();
  peakInFlight = 0;
  openSockets = 0;
  peakSockets = 0;
  /** Connections opened since the start (a client that keeps them alive opens few). */
  socketsOpened = 0;

  constructor(public limits: Limits) {}

  /** Admits a request or says why not (the 429's detail and Retry-After seconds). */
  admit(account: string, now: number): { ok: true } | { ok: false; detail: string; retryAfterSec: number } {
    const flying = this.inFlight.get(account) ?? 0;
    if (flying >= this.limits.maxConnections) {
      return {
        ok: false,
        detail: `You have exceeded the limit of ${this.limits.maxConnections} simultaneous connections.`,
        retryAfterSec: 1,
      };
    }
    if (this.limits.perSecond !== null) {
      const window = (this.windows.get(account) ?? []).filter((t) => t > now - 1000);
      this.windows.set(account, window);
      if (window.length >= this.limits.perSecond) {
        const waitMs = (window[0] ?? now) + 1000 - now;
        return {
          ok: false,
          detail: `You have exceeded the limit of ${this.limits.perSecond} requests per second.`,
          retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)),
        };
      }
      window.push(now);
    }
    this.inFlight.set(account, flying + 1);
    this.peakInFlight = Math.max(this.peakInFlight, flying + 1);
    return { ok: true };
  }

  release(account: string): void {
    this.inFlight.set(account, Math.max(0, (this.inFlight.get(account) ?? 1) - 1));
  }

  flying(account: string): number {
    return this.inFlight.get(account) ?? 0;
  }

  /** The most logged requests (optionally only some) whose arrivals fit in one `windowMs`. */
  maxInWindow(windowMs: number, filter: (e: RequestLogEntry) => boolean = () => true): number {
    const times = this.log
      .filter(filter)
      .map((e) => e.t)
      .sort((a, b) => a - b);
    let best = 0;
    let start = 0;
    for (let end = 0; end < times.length; end++) {
      while ((times[end] as number) - (times[start] as number) >= windowMs) start++;
      best = Math.max(best, end - start + 1);
    }
    return best;
  }

  reset(): void {
    this.log.length = 0;
    this.windows.clear();
    this.peakInFlight = 0;
    this.peakSockets = this.openSockets;
    this.socketsOpened = 0;
  }
}
