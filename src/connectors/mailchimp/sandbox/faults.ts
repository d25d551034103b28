import { SandboxProblem } from './problem.js';

/**
 * Fault injection. A rule answers matching requests with an error (problem+json, or a raw body
 * such as the HTML 403 Mailchimp sends when connections pile up) for its next `times` matches,
 * optionally after a delay. Email faults make one address fail wherever it is written, as one
 * bad input inside a good batch.
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

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, left: rule.times ?? 1 });
  }

  failEmail(email: string, fault: EmailFault): void {
    this.emails.set(email.trim().toLowerCase(), { ...fault, left: fault.times ?? Number.POSITIVE_INFINITY });
  }

  clear(): void {
    this.rules = [];
    this.emails.clear();
  }

  /** The rule a request trips, consuming one of its uses. */
  take(method: string, path: string): FaultRule | undefined {
    const rule = this.rules.find(
      (r) =>
        r.left > 0 &&
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
