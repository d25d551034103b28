import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MicroBatcher,
  MicroBatcherClosedError,
  MicroBatcherResultError,
} from '../../src/engine/micro-batcher.js';

/** A flush that records each batch it receives and answers each item doubled. */
function recordingFlush() {
  const batches: number[][] = [];
  const flush = async (items: number[]) => {
    batches.push([...items]);
    return items.map((n) => n * 2);
  };
  return { batches, flush };
}

/** A batcher on fake timers with a 50 ms window that asks `holdPartial` when a window ends. */
function holdingBatcher(
  holdPartial: () => Promise<boolean>,
  options: { maxSize?: number; maxHoldMs?: number } = {},
) {
  vi.useFakeTimers();
  const { batches, flush } = recordingFlush();
  const batcher = new MicroBatcher({
    maxSize: options.maxSize ?? 10,
    windowMs: 50,
    maxHoldMs: options.maxHoldMs ?? 1_000,
    flush,
    holdPartial,
  });
  return { batches, batcher };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('MicroBatcher', () => {
  it('sends a batch as soon as it reaches maxSize, without waiting for the window', async () => {
    const { batches, flush } = recordingFlush();
    const batcher = new MicroBatcher({ maxSize: 3, windowMs: 60_000, flush });
    const results = await Promise.all([batcher.add(1), batcher.add(2), batcher.add(3)]);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(results).toEqual([2, 4, 6]);
    await batcher.close();
  });

  it('splits a burst larger than maxSize into full batches and a remainder', async () => {
    const { batches, flush } = recordingFlush();
    const batcher = new MicroBatcher({ maxSize: 2, windowMs: 10, flush });
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
    expect(results).toEqual([2, 4, 6, 8, 10]);
    await batcher.close();
  });

  it('sends a partial batch windowMs after its first item, not before', async () => {
    vi.useFakeTimers();
    const { batches, flush } = recordingFlush();
    const batcher = new MicroBatcher({ maxSize: 10, windowMs: 50, flush });
    const first = batcher.add(1);
    await vi.advanceTimersByTimeAsync(30);
    const second = batcher.add(2);
    await vi.advanceTimersByTimeAsync(19);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[1, 2]]);
    expect(await Promise.all([first, second])).toEqual([2, 4]);
    await batcher.close();
  });

  it('holds a partial batch for more windows while holdPartial says more is coming', async () => {
    const answers = [true, true, false];
    const asked: number[] = [];
    const { batches, batcher } = holdingBatcher(async () => {
      asked.push(Date.now());
      return answers.shift() ?? false;
    });
    const first = batcher.add(1);
    await vi.advanceTimersByTimeAsync(120);
    const second = batcher.add(2);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(30);
    // Asked at the end of each window; the third answer let it go, with what arrived meanwhile.
    expect(asked).toHaveLength(3);
    expect(batches).toEqual([[1, 2]]);
    expect(await Promise.all([first, second])).toEqual([2, 4]);
    await batcher.close();
  });

  it('sends a held batch once it is full, and never holds one past maxHoldMs', async () => {
    const { batches, batcher } = holdingBatcher(async () => true, { maxSize: 3, maxHoldMs: 200 });
    const full = [batcher.add(1), batcher.add(2)];
    await vi.advanceTimersByTimeAsync(120);
    full.push(batcher.add(3));
    expect(batches).toEqual([[1, 2, 3]]);
    const late = batcher.add(4);
    await vi.advanceTimersByTimeAsync(199);
    expect(batches).toEqual([[1, 2, 3]]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[1, 2, 3], [4]]);
    expect(await Promise.all([...full, late])).toEqual([2, 4, 6, 8]);
    await batcher.close();
  });

  it('sends a partial batch when holdPartial fails', async () => {
    const { batches, batcher } = holdingBatcher(async () => {
      throw new Error('redis away');
    });
    const one = batcher.add(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(batches).toEqual([[1]]);
    expect(await one).toBe(2);
    await batcher.close();
  });

  it('starts a new window for items that arrive after a flush', async () => {
    vi.useFakeTimers();
    const { batches, flush } = recordingFlush();
    const batcher = new MicroBatcher({ maxSize: 10, windowMs: 50, flush });
    const a = batcher.add(1);
    await vi.advanceTimersByTimeAsync(50);
    const b = batcher.add(2);
    await vi.advanceTimersByTimeAsync(49);
    expect(batches).toEqual([[1]]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[1], [2]]);
    expect([await a, await b]).toEqual([2, 4]);
  });

  it('resolves each item with the result at its own position', async () => {
    const batcher = new MicroBatcher<string, string>({
      maxSize: 3,
      windowMs: 1000,
      flush: async (items) =>
        items
          .map((s) => s.toUpperCase())
          .reverse()
          .reverse(),
    });
    const [a, b, c] = await Promise.all([batcher.add('a'), batcher.add('b'), batcher.add('c')]);
    expect([a, b, c]).toEqual(['A', 'B', 'C']);
  });

  it('rejects every item of a batch with the error its flush threw, and only that batch', async () => {
    let calls = 0;
    const batcher = new MicroBatcher<number, number>({
      maxSize: 2,
      windowMs: 1000,
      flush: async (items) => {
        calls += 1;
        if (calls === 1) throw new Error('provider is down');
        return items;
      },
    });
    const failed = [batcher.add(1), batcher.add(2)].map((p) => p.catch((e: Error) => e.message));
    const ok = [batcher.add(3), batcher.add(4)];
    expect(await Promise.all(failed)).toEqual(['provider is down', 'provider is down']);
    expect(await Promise.all(ok)).toEqual([3, 4]);
  });

  it('treats a flush that throws synchronously like one that rejects', async () => {
    const batcher = new MicroBatcher<number, number>({
      maxSize: 1,
      windowMs: 1000,
      flush: () => {
        throw new Error('bad call');
      },
    });
    await expect(batcher.add(1)).rejects.toThrow('bad call');
  });

  it('rejects every item with a clear error when flush returns the wrong number of results', async () => {
    const batcher = new MicroBatcher<number, number>({
      maxSize: 3,
      windowMs: 1000,
      name: 'hubspot-production',
      flush: async (items) => items.slice(1),
    });
    const outcomes = await Promise.allSettled([batcher.add(1), batcher.add(2), batcher.add(3)]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(MicroBatcherResultError);
      expect(reason.message).toBe(
        'micro-batcher hubspot-production: flush returned 2 results for a batch of 3 items; it must return one result per item, in order',
      );
    }
  });

  it('rejects the batch when flush answers something that is not an array', async () => {
    const batcher = new MicroBatcher<number, number>({
      maxSize: 1,
      windowMs: 1000,
      flush: async () => undefined as unknown as number[],
    });
    await expect(batcher.add(1)).rejects.toThrow(
      'flush returned no array (undefined) for a batch of 1 items',
    );
  });

  it('flush() sends what is pending at once and resolves when that batch has settled', async () => {
    const { batches, flush } = recordingFlush();
    const batcher = new MicroBatcher({ maxSize: 10, windowMs: 60_000, flush });
    const pending = [batcher.add(1), batcher.add(2)];
    await batcher.flush();
    expect(batches).toEqual([[1, 2]]);
    expect(await Promise.all(pending)).toEqual([2, 4]);
    await batcher.flush();
    expect(batches).toHaveLength(1);
  });

  it('lets batches overlap: a slow flush does not hold back the next one', async () => {
    let releaseFirst: () => void = () => {};
    const started: number[][] = [];
    const batcher = new MicroBatcher<number, number>({
      maxSize: 2,
      windowMs: 1000,
      flush: async (items) => {
        started.push(items);
        if (items[0] === 1) await new Promise<void>((r) => (releaseFirst = r));
        return items;
      },
    });
    const first = Promise.all([batcher.add(1), batcher.add(2)]);
    const second = await Promise.all([batcher.add(3), batcher.add(4)]);
    expect(second).toEqual([3, 4]);
    expect(started).toEqual([
      [1, 2],
      [3, 4],
    ]);
    releaseFirst();
    expect(await first).toEqual([1, 2]);
  });

  it('close() flushes pending items, waits for batches in flight and refuses new items', async () => {
    let release: () => void = () => {};
    let finished = false;
    const batcher = new MicroBatcher<number, number>({
      maxSize: 2,
      windowMs: 60_000,
      flush: async (items) => {
        if (items.length === 2) {
          await new Promise<void>((r) => (release = r));
          finished = true;
        }
        return items;
      },
    });
    const inFlight = Promise.all([batcher.add(1), batcher.add(2)]);
    const pending = batcher.add(3);
    const closing = batcher.close();
    await expect(pending).resolves.toBe(3);
    await expect(batcher.add(4)).rejects.toBeInstanceOf(MicroBatcherClosedError);
    expect(finished).toBe(false);
    release();
    await closing;
    expect(finished).toBe(true);
    expect(await inFlight).toEqual([1, 2]);
  });

  it('rejects options that cannot work, naming the option', () => {
    const flush = async (items: number[]) => items;
    expect(() => new MicroBatcher({ maxSize: 0, windowMs: 10, flush })).toThrow(
      'micro-batcher: maxSize must be a positive integer, got 0',
    );
    expect(() => new MicroBatcher({ maxSize: 1.5, windowMs: 10, flush })).toThrow(
      'maxSize must be a positive integer',
    );
    expect(() => new MicroBatcher({ maxSize: 5, windowMs: -1, flush, name: 'x' })).toThrow(
      'micro-batcher x: windowMs must be a finite number >= 0, got -1',
    );
  });
});
