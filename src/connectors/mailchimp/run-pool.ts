/**
 * Runs `work` over the items with at most `limit` in flight. Mailchimp allows 10 simultaneous
 * connections per account; the engine's limiter enforces that across processes, and this keeps
 * one push from queueing hundreds of calls at once (and a direct test context from exceeding it).
 */
export const MAX_PARALLEL = 10;

export async function runPool<T>(
  items: readonly T[],
  work: (item: T, index: number) => Promise<void>,
  limit = MAX_PARALLEL,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}
