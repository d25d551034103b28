import { type PropertyProblem, problem } from './sandbox-errors.js';

export interface FailureRule {
  /** How many matching requests fail (then the rule is spent). */
  count: number;
  /** 500, 502, 503, 504, 401, … */
  status: number;
  /** Only requests whose path matches. */
  path?: RegExp | undefined;
  body?: Record<string, unknown> | undefined;
  headers?: Record<string, string> | undefined;
  /**
   * Carry the request out first, then answer with the failure: a write that reached HubSpot
   * whose answer was lost (a 5xx after the write, a dropped connection).
   */
  applied?: boolean | undefined;
  /** Close the connection without an answer (`status` is then unused; the log records 0). */
  drop?: boolean | undefined;
}

export interface InputRule {
  /** Only inputs of this object type (`contacts`). */
  objectType?: string | undefined;
  /** Which inputs are refused, by their properties. */
  match(properties: Record<string, string>): boolean;
  /** The property HubSpot blames, its error code and message. */
  property: string;
  error: string;
  message: string;
}

/**
 * What a test injects into the sandbox: slowness, failing requests, refused inputs, index lag.
 * A failing request is refused before it is carried out, unless its rule says `applied`; with
 * `drop` no answer comes (as in the Mailchimp sandbox's faults).
 */
export class Faults {
  /** Added before every answer. A function gets the path (`/crm/v3/…`). */
  latencyMs: number | ((path: string) => number) = 0;
  private failures: FailureRule[] = [];
  private inputs: InputRule[] = [];
  /**
   * Emails whose next upsert answers CONFLICT ("Contact already exists. Existing ID: …"), as
   * HubSpot does when its search index lags a write another client just made.
   */
  readonly conflictOnUpsert = new Set<string>();

  failNext(rule: Partial<FailureRule> & { count?: number }): void {
    this.failures.push({ count: rule.count ?? 1, status: rule.status ?? 502, ...rule } as FailureRule);
  }

  rejectInputs(rule: InputRule): void {
    this.inputs.push(rule);
  }

  reset(): void {
    this.latencyMs = 0;
    this.failures = [];
    this.inputs = [];
    this.conflictOnUpsert.clear();
  }

  latencyFor(path: string): number {
    return typeof this.latencyMs === 'function' ? this.latencyMs(path) : this.latencyMs;
  }

  takeFailure(path: string): FailureRule | undefined {
    const rule = this.failures.find((r) => r.count > 0 && (!r.path || r.path.test(path)));
    if (!rule) return undefined;
    rule.count -= 1;
    this.failures = this.failures.filter((r) => r.count > 0);
    return rule;
  }

  inputProblems(objectType: string, properties: Record<string, string>): PropertyProblem[] {
    return this.inputs
      .filter((r) => (!r.objectType || r.objectType === objectType) && r.match(properties))
      .map((r) => problem(r.property, r.error, r.message));
  }
}
