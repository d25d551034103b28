import type { z } from 'zod';

/**
 * The transform contract (STYLE habit 5): a pure function `(value, record) => value`, where
 * `undefined` drops the field and a `Rejection` drops it *and* says why, so that bad record data
 * becomes a per-field issue instead of an exception or a silently missing field.
 */

/** The whole record beside the value: the CRM snapshot on push, the provider record on pull. */
export type TransformRecord = Readonly<Record<string, unknown>>;

export type TransformFn = (value: unknown, record: TransformRecord) => unknown;

/** A transform's verdict that it cannot convert the value; `reason` names the value. */
export class Rejection {
  constructor(readonly reason: string) {}
}

export function reject(reason: string): Rejection {
  return new Rejection(reason);
}

export function isRejection(value: unknown): value is Rejection {
  return value instanceof Rejection;
}

interface ParamSpec<P> {
  schema: z.ZodType<P>;
  /** `required`: `{ join: ";" }` only; `optional`: `date` or `{ date: epoch_ms }`. */
  presence: 'required' | 'optional';
  /** What a valid parameter is, for the compile error: `a positive whole number of characters`. */
  expects: string;
}

export interface TransformDefinition<P> {
  name: string;
  /** One line for the docs and the `--help` of `mapping preview`. */
  summary: string;
  /**
   * `element`: applied to each element when the value is an array (string and number
   * conversions); `value`: applied to the value as a whole (join, split, default).
   */
  scope: 'element' | 'value';
  /** Runs on a missing (`undefined`) or `null` value too; others pass those through untouched. */
  acceptsMissing?: boolean;
  /** Absent: the transform takes no parameter. */
  param?: ParamSpec<P>;
  /** `param` is `undefined` when an optional parameter is left out. */
  push: (param: P) => TransformFn;
  /**
   * What a pull (provider → CRM) does with this step: `same` re-applies it (type coercions:
   * HubSpot answers numbers as strings), `skip` ignores it (lossy normalisers such as trim or
   * truncate cannot be undone), or a function gives the inverse (join ↔ split).
   */
  pull: 'same' | 'skip' | ((param: P) => TransformFn);
}

/** A step ready to run, built from a definition and its (validated) parameter. */
export interface BuiltStep {
  name: string;
  scope: 'element' | 'value';
  acceptsMissing: boolean;
  push: TransformFn;
  /** `undefined`: the step does nothing on pull. */
  pull: TransformFn | undefined;
}

export type BuildResult = { ok: true; step: BuiltStep } | { ok: false; message: string };

/** A registered transform: its description, and a builder that validates the parameter. */
export interface Transform {
  name: string;
  summary: string;
  scope: 'element' | 'value';
  /** `none`, `optional` or `required`. */
  takes: 'none' | 'optional' | 'required';
  expects: string | undefined;
  /** `given: false` when the step was written as a bare name. */
  build(given: boolean, param: unknown): BuildResult;
}

/** Declares a transform; the returned builder checks the parameter with the declared zod schema. */
export function defineTransform<P = undefined>(def: TransformDefinition<P>): Transform {
  const takes = def.param?.presence ?? 'none';
  return {
    name: def.name,
    summary: def.summary,
    scope: def.scope,
    takes,
    expects: def.param?.expects,
    build(given, raw) {
      if (!def.param) {
        if (given)
          return {
            ok: false,
            message: `transform "${def.name}" takes no parameter; write it as ${def.name}`,
          };
        return { ok: true, step: instantiate(def, undefined as P) };
      }
      if (!given && def.param.presence === 'required') {
        return { ok: false, message: `transform "${def.name}" needs ${def.param.expects}` };
      }
      const parsed = def.param.schema.safeParse(given ? raw : undefined);
      if (!parsed.success) {
        return {
          ok: false,
          message: `transform "${def.name}" needs ${def.param.expects}, got ${JSON.stringify(raw) ?? 'nothing'}`,
        };
      }
      return { ok: true, step: instantiate(def, parsed.data) };
    },
  };
}

function instantiate<P>(def: TransformDefinition<P>, param: P): BuiltStep {
  return {
    name: def.name,
    scope: def.scope,
    acceptsMissing: def.acceptsMissing ?? false,
    push: def.push(param),
    pull: def.pull === 'skip' ? undefined : def.pull === 'same' ? def.push(param) : def.pull(param),
  };
}
