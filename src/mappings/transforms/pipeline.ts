import { didYouMean } from '../did-you-mean.js';
import { item, type MappingIssue } from '../issues.js';
import type { TransformStep } from '../schema.js';
import { type BuiltStep, isRejection, Rejection, type TransformFn, type TransformRecord } from './define.js';
import { findTransform, TRANSFORM_NAMES } from './registry.js';

/**
 * A field's transform list, compiled: the push steps in order, and the pull steps (each step's
 * pull form, in reverse order, so that `[{ split: ";" }, number]` pulls as number then join).
 */

export interface PipelineStep {
  fn: TransformFn;
  scope: 'element' | 'value';
  acceptsMissing: boolean;
  /** `transform[2]`-style location, for issues raised while applying. */
  at: string;
  name: string;
}

export interface CompiledPipeline {
  push: readonly PipelineStep[];
  pull: readonly PipelineStep[];
}

/** A failed step: where it is and why it refused the value. */
export class PipelineFailure {
  constructor(
    readonly at: string,
    readonly name: string,
    readonly reason: string,
  ) {}
}

function readStep(step: TransformStep): { name: string; given: boolean; param: unknown } {
  if (typeof step === 'string') return { name: step, given: false, param: undefined };
  const [name, param] = Object.entries(step)[0] ?? ['', undefined];
  return { name, given: true, param };
}

export function compilePipeline(
  steps: readonly TransformStep[],
  where: string,
  issues: MappingIssue[],
): CompiledPipeline {
  const built: { step: BuiltStep; at: string }[] = [];
  steps.forEach((raw, index) => {
    const at = item(where, index);
    const { name, given, param } = readStep(raw);
    const transform = findTransform(name);
    if (!transform) {
      issues.push({
        path: at,
        severity: 'error',
        message: `unknown transform "${name}"${didYouMean(name, TRANSFORM_NAMES)}; allowed: ${TRANSFORM_NAMES.join(', ')}`,
      });
      return;
    }
    const result = transform.build(given, param);
    if (result.ok) built.push({ step: result.step, at });
    else issues.push({ path: at, severity: 'error', message: result.message });
  });
  const push = built.map(({ step, at }) => ({ ...common(step, at), fn: step.push }));
  const pull: PipelineStep[] = [];
  for (let i = built.length - 1; i >= 0; i -= 1) {
    const { step, at } = built[i]!;
    if (step.pull) pull.push({ ...common(step, at), fn: step.pull });
  }
  return { push, pull };
}

function common(step: BuiltStep, at: string) {
  return { scope: step.scope, acceptsMissing: step.acceptsMissing, at, name: step.name };
}

/**
 * Runs the steps; a `Rejection` stops the pipeline and comes back as a `PipelineFailure`. Element-scoped
 * steps run on each element of an array (nulls stay as they are).
 */
export function runPipeline(
  steps: readonly PipelineStep[],
  input: unknown,
  record: TransformRecord,
): unknown {
  let value = input;
  for (const step of steps) {
    if ((value === undefined || value === null) && !step.acceptsMissing) continue;
    const out =
      step.scope === 'element' && Array.isArray(value)
        ? eachElement(step, value, record)
        : step.fn(value, record);
    if (isRejection(out)) return new PipelineFailure(step.at, step.name, out.reason);
    value = out;
  }
  return value;
}

function eachElement(step: PipelineStep, values: readonly unknown[], record: TransformRecord): unknown {
  const out = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i += 1) {
    const element = values[i];
    if (element === undefined || element === null) {
      out[i] = element;
      continue;
    }
    const mapped = step.fn(element, record);
    if (isRejection(mapped)) return new Rejection(`element [${i}]: ${mapped.reason}`);
    out[i] = mapped;
  }
  return out;
}
