import { SandboxProblem } from './problem.js';

/**
 * Fault injection. A rule answers matching requests with an error (problem+json, or a raw body
 * such as the HTML 403 Mailchimp sends when connections pile up) for its next `times` matches,
 * optionally after a delay. Email faults make one address fail wherever it is written, as one
 * bad input inside a good batch. A rule with a `path` targets a route, so it also fails the
 * batch operations (POST /batches) sent to that path, and can target the results download
 * (`/__sandbox/batch-results/`); a rule without one is about the HTTP exchange itself and
 * applies to API requests only. `holdBatches(true)` keeps submitted batches `pending`. With
 * `applied` the request is carried out before the fault answers it; with `drop` no answer comes.
 */
export interface FaultRule {
  method?: string;
  /** Matched against the path after /3.0 (`/lists/abc/members/…`). */
  path?: string | RegExp;
  status: number;
  title?: string;
  detail?: string;
  /** Sent as is (text/html) instead of problem+json. */
  rawBody?: string;
  headers?: Record<string, string>;
  /**
   * Carry the request out first, then answer with the fault: a write that reached Mailchimp
   * whose answer was lost (a 500 after the write, a dropped connection). Batch operations too.
   */
  applied?: boolean;
  /**
   * Close the connection without an answer (`status` is then only what `traffic.log` records).
   * API requests only: a batch operation given one gets `status` as its result.
   */
  drop?: boolean;
  /** How many matching requests fail; Infinity for all of them. Default 1. */
  times?: number;
  delayMs?: number;
}

export interface EmailFault {
  title: string;
  detail: string;
  /** The batch-subscribe `error_code`. */
  errorCode?: string;
  status?: number;
  times?: number;
}

export class Faults {
  private rules: (FaultRule & { left: number })[] = [];
  private emails = new Map<string, EmailFault & { left: number }>();
  /** Batches waiting for `holdBatches(false)`; null while batches may run. */
  private heldBatches: (() => void)[] | null = null;

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, left: rule.times ?? 1 });
  }

  failEmail(email: string, fault: EmailFault): void {
    this.emails.set(email.trim().toLowerCase(), { ...fault, left: fault.times ?? Number.POSITIVE_INFINITY });
  }

  /** Removes every rule and email fault, and lets held batches run. */
  clear(): void {
    this.rules = [];
    this.emails.clear();
    this.holdBatches(false);
  }

  /**
   * Keeps submitted batches `pending` (to test a client's batch timeout) until called with
   * false, when the held ones run. A batch already started runs to its end.
   */
  holdBatches(hold: boolean): void {
    if (hold) {
      this.heldBatches ??= [];
      return;
    }
    const waiting = this.heldBatches ?? [];
    this.heldBatches = null;
    for (const release of waiting) release();
  }

  /** Resolves when batches may run: at once, unless they are held. */
  batchesMayRun(): Promise<void> {
    const held = this.heldBatches;
    return held ? new Promise((resolve) => held.push(resolve)) : Promise.resolve();
  }

  /**
   * The rule a request trips, consuming one of its uses. `routedOnly` looks at rules with a
   * `path` alone: those are the ones that reach batch operations and the results download.
   */
  take(method: string, path: string, routedOnly = false): FaultRule | undefined {
    const rule = this.rules.find(
      (r) =>
        r.left > 0 &&
        (!routedOnly || r.path !== undefined) &&
        (r.method === undefined || r.method.toUpperCase() === method) &&
        (r.path === undefined || (typeof r.path === 'string' ? path.startsWith(r.path) : r.path.test(path))),
    );
    if (rule) rule.left -= 1;
    return rule;
  }

  /** Throws the email's injected problem when it has one left. */
  checkEmail(email: string): void {
    const fault = this.emails.get(email.trim().toLowerCase());
    if (!fault || fault.left <= 0) return;
    fault.left -= 1;
    throw new SandboxProblem(fault.status ?? 400, fault.title, fault.detail);
  }

  /** The batch-subscribe error entry for the email, when it has a fault left. */
  emailError(email: string): { error: string; error_code: string } | undefined {
    const fault = this.emails.get(email.trim().toLowerCase());
    if (!fault || fault.left <= 0) return undefined;
    fault.left -= 1;
    return { error: fault.detail, error_code: fault.errorCode ?? 'ERROR_GENERIC' };
  }
}
