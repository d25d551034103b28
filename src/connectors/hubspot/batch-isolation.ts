import { type ConnectorError, classifyUnknown } from '../errors.js';

export type Settled<R> = { ok: R } | { error: ConnectorError };

export interface IsolationPlan<I, R> {
  /**
   * Sends the items as one request. One result per item, in order (a multi-status answer may
   * settle some items as errors). Throws when HubSpot refused the request as a whole.
   */
  send(items: I[]): Promise<Settled<R>[]>;
  /**
   * Given a permanent whole-request failure, settles the items it can pin the failure on (from
   * the error's context), or returns null when the error does not say.
   */
  blame(error: ConnectorError, items: I[]): Promise<Map<number, Settled<R>> | null>;
}

/**
 * Sends a batch so that one bad input does not sink the others. HubSpot fails a whole batch for
 * one invalid input (only batch create with objectWriteTraceIds answers multi-status), so:
 * settle the inputs the error names and resend the rest; when it names none, bisect. The batch
 * is never resent whole for the same bad record, and bisection is the last resort (it costs
 * about 2·log2(n) requests per unnamed bad input).
 *
 * A failure that concerns every input (auth, 429, 5xx, network) is thrown while nothing has
 * landed yet; once some inputs have landed it settles the remaining ones instead, so the good
 * results are not lost.
 */
export async function sendIsolating<I, R>(items: I[], plan: IsolationPlan<I, R>): Promise<Settled<R>[]> {
  const out: (Settled<R> | undefined)[] = items.map(() => undefined);
  let landed = 0;
  const settle = (index: number, result: Settled<R>) => {
    out[index] = result;
    if ('ok' in result) landed += 1;
  };

  async function run(indices: number[]): Promise<void> {
    let pending = indices;
    while (pending.length > 0) {
      const batch = pending.map((i) => items[i] as I);
      let failure: ConnectorError;
      try {
        const results = await plan.send(batch);
        pending.forEach((index, k) => {
          settle(index, results[k] ?? { error: classifyUnknown('no result') });
        });
        return;
      } catch (error) {
        failure = classifyUnknown(error);
      }
      if (failure.kind !== 'permanent') return giveUp(pending, failure);
      let blamed: Map<number, Settled<R>> | null;
      try {
        blamed = await plan.blame(failure, batch);
      } catch (error) {
        return giveUp(pending, classifyUnknown(error));
      }
      if (blamed && blamed.size > 0) {
        for (const [k, result] of blamed) settle(pending[k] as number, result);
        pending = pending.filter((_, k) => !blamed.has(k));
        continue;
      }
      if (pending.length === 1) {
        settle(pending[0] as number, { error: failure });
        return;
      }
      const middle = Math.ceil(pending.length / 2);
      await run(pending.slice(0, middle));
      await run(pending.slice(middle));
      return;
    }
  }

  function giveUp(pending: number[], failure: ConnectorError): void {
    if (landed === 0 && out.every((r) => r === undefined)) throw failure;
    for (const index of pending) settle(index, { error: failure });
  }

  await run(items.map((_, i) => i));
  return out.map((r) => r ?? { error: classifyUnknown('not sent') });
}
