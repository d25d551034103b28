/** One request the sandbox received, with when it arrived and how it was answered. */
export interface LoggedRequest {
  /** Arrival time, ms since the epoch (fractional: from `performance.timeOrigin + now()`). */
  at: number;
  finishedAt: number;
  method: string;
  path: string;
  /** 0 for a connection closed without an answer (a `drop` failure). */
  status: number;
  /** The request body (parsed JSON). */
  body: unknown;
  /** What the sandbox answered (parsed JSON), for checking its shapes against HubSpot's specs. */
  answer: unknown;
  /** Answered 429 by the simulated rate limit. */
  rateLimited: boolean;
}

/** Every request, in arrival order, and the measures the tests and the benchmark need. */
export class RequestLog {
  readonly entries: LoggedRequest[] = [];

  add(entry: LoggedRequest): void {
    this.entries.push(entry);
  }

  clear(): void {
    this.entries.length = 0;
  }

  filter(predicate: (r: LoggedRequest) => boolean = () => true): LoggedRequest[] {
    return this.entries.filter(predicate);
  }

  /** Requests to `METHOD path` (path without query), e.g. `POST /crm/v3/objects/contacts/batch/upsert`. */
  to(method: string, path: string | RegExp): LoggedRequest[] {
    return this.entries.filter(
      (r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)),
    );
  }

  /** The most requests that arrived within any window of `windowMs` (a sliding window over arrivals). */
  maxInWindow(windowMs: number, predicate: (r: LoggedRequest) => boolean = () => true): number {
    const times = this.entries
      .filter(predicate)
      .map((r) => r.at)
      .sort((a, b) => a - b);
    let most = 0;
    let start = 0;
    for (let end = 0; end < times.length; end++) {
      while ((times[end] as number) - (times[start] as number) >= windowMs) start++;
      most = Math.max(most, end - start + 1);
    }
    return most;
  }

  count(predicate: (r: LoggedRequest) => boolean = () => true): number {
    return this.entries.filter(predicate).length;
  }
}
