/**
 * Groups items that arrive close together into one call, so concurrent syncs of one integration
 * reach the provider's batch endpoint (HubSpot upsert: 100 inputs, Mailchimp: 500 members) as
 * one request instead of many. Each caller still gets its own result, matched by position.
 *
 * @example
 * const batcher = new MicroBatcher<Input, Result>({ maxSize: 100, windowMs: 20, flush: upsertBatch });
 * const result = await batcher.add(input); // resolves with this input's result
 */

export interface MicroBatcherOptions<I, O> {
  /** A batch is sent as soon as it holds this many items. */
  maxSize: number;
  /** …or this long after its first item arrived, whichever comes first. */
  windowMs: number;
  /** Sends one batch; must answer one result per item, in the items' order. */
  flush: (items: I[]) => Promise<O[]>;
  /** Names the batcher in error messages (e.g. the integration key). */
  name?: string | undefined;
  /**
   * Asked when the window ends with a batch that is not full: true keeps filling it for another
   * window, because more items are on their way or sending it now would not get it out sooner.
   * A batch is held at most `maxHoldMs` after its first item arrived. A check that fails sends.
   */
  holdPartial?: (() => Promise<boolean>) | undefined;
  /** Default: `windowMs` (never held). */
  maxHoldMs?: number | undefined;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

export class MicroBatcherClosedError extends Error {
  override name = 'MicroBatcherClosedError';
}

export class MicroBatcherResultError extends Error {
  override name = 'MicroBatcherResultError';
}

export class MicroBatcher<I, O> {
  private readonly maxSize: number;
  private readonly windowMs: number;
  private readonly send: (items: I[]) => Promise<O[]>;
  private readonly label: string;
  private readonly holdPartial: (() => Promise<boolean>) | undefined;
  private readonly maxHoldMs: number;
  private pending: Pending<I, O>[] = [];
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(opts: MicroBatcherOptions<I, O>) {
    this.label = opts.name ? `micro-batcher ${opts.name}` : 'micro-batcher';
    if (!Number.isInteger(opts.maxSize) || opts.maxSize < 1) {
      throw new RangeError(`${this.label}: maxSize must be a positive integer, got ${String(opts.maxSize)}`);
    }
    if (!Number.isFinite(opts.windowMs) || opts.windowMs < 0) {
      throw new RangeError(
        `${this.label}: windowMs must be a finite number >= 0, got ${String(opts.windowMs)}`,
      );
    }
    this.maxSize = opts.maxSize;
    this.windowMs = opts.windowMs;
    this.send = opts.flush;
    this.holdPartial = opts.holdPartial;
    this.maxHoldMs = opts.maxHoldMs ?? opts.windowMs;
  }

  /** Queues `item`; resolves with its own result, or rejects with the error of its batch. */
  add(item: I): Promise<O> {
    if (this.closed) {
      return Promise.reject(new MicroBatcherClosedError(`${this.label} is closed and accepts no new items`));
    }
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxSize) {
        void this.flush();
      } else if (this.pending.length === 1) {
        this.startedAt = Date.now();
        this.timer = setTimeout(() => void this.windowEnded(), this.windowMs);
      }
    });
  }

  private async windowEnded(): Promise<void> {
    const batch = this.pending;
    const hold = this.holdPartial;
    const mayHold = !this.closed && Date.now() - this.startedAt + this.windowMs <= this.maxHoldMs;
    if (hold && mayHold && (await hold().catch(() => false))) {
      // Still the same batch, not sent meanwhile (full, or close()): wait one more window.
      if (this.pending === batch && batch.length > 0 && !this.closed) {
        this.timer = setTimeout(() => void this.windowEnded(), this.windowMs);
      }
      return;
    }
    if (this.pending === batch) await this.flush();
  }

  /** Sends what is pending now; resolves once that batch has settled (its errors go to its items). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = [];
    const done = this.deliver(batch);
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
    return done;
  }

  /** Sends what is pending, waits for every batch in flight, and refuses new items from now on. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await Promise.all([...this.inFlight]);
  }

  private async deliver(batch: Pending<I, O>[]): Promise<void> {
    let results: unknown;
    try {
      results = await this.send(batch.map((p) => p.item));
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    if (!Array.isArray(results) || results.length !== batch.length) {
      const got = Array.isArray(results) ? `${results.length} results` : `no array (${typeof results})`;
      const error = new MicroBatcherResultError(
        `${this.label}: flush returned ${got} for a batch of ${batch.length} items; it must return one result per item, in order`,
      );
      for (const p of batch) p.reject(error);
      return;
    }
    const ordered = results as O[];
    batch.forEach((p, i) => {
      p.resolve(ordered[i] as O);
    });
  }
}
