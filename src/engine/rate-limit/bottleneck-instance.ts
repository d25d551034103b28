import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';
import type { RateLimit } from '../../connectors/types.js';
import { bottleneckSettings, bottleneckUpdate } from './limit-settings.js';
import { Redis7Connection } from './redis7-connection.js';

/**
 * Idle accounts' state leaves Redis after a day: an integration that was deleted leaves nothing
 * behind, and a returning one re-creates its state through the (patched) recovery.
 */
const STATE_TTL_MS = 24 * 60 * 60_000;

/** How long closing waits for requests already running to finish and free their slots. */
const CLOSE_GRACE_MS = 10_000;

/**
 * After this many consecutive failures (requests lost before they started, kicks refused), the
 * instance is replaced: a fallback for failures the patched recovery does not know. Never before
 * it is this old, so an outage does not turn into a churn of new connections.
 */
const REPLACE_AFTER_FAILURES = 5;
const REPLACE_MIN_AGE_MS = 5_000;

export interface BottleneckInstanceOptions {
  id: string;
  redisUrl: string;
  /** Read when the settings are pushed, so a change made meanwhile is not overwritten. */
  limit(): RateLimit;
  onError(error: unknown): void;
}

/**
 * One clustered Bottleneck with a Redis connection of its own. A connection of its own because
 * Bottleneck routes pub/sub messages by limiter id per connection: two limiters with one id on a
 * shared connection overwrite each other's routing and one of them waits forever (the
 * `UNKNOWN_CLIENT` hang), which is what replacing a broken instance would otherwise do.
 */
export class BottleneckInstance {
  readonly bottleneck: Bottleneck;
  private readonly connection: Redis7Connection;
  private consecutiveFailures = 0;
  private startFailed = false;
  private readonly createdAt = Date.now();
  private disposed = false;
  /** A kick (see AccountLimiter) is in flight on this instance. */
  kicking = false;
  /** Settles once the settings pushed so far are in Redis; never rejects. */
  settingsApplied: Promise<void>;
  private readonly onError: (error: unknown) => void;

  constructor(opts: BottleneckInstanceOptions) {
    const client = new Redis(opts.redisUrl, { connectionName: 'crm-sync:ratelimit' });
    this.connection = new Redis7Connection(client);
    this.connection.onError(opts.onError);
    this.bottleneck = new Bottleneck({
      id: opts.id,
      datastore: 'ioredis',
      connection: this.connection,
      timeout: STATE_TTL_MS,
      ...bottleneckSettings(opts.limit()),
    });
    this.onError = opts.onError;
    this.bottleneck.on('error', opts.onError);
    // The first limiter of an id writes the settings and later ones keep them: push this
    // process's limit so a changed configuration reaches every process.
    this.settingsApplied = this.bottleneck.ready().then(
      () => this.pushSettings(opts.limit()),
      (error: unknown) => {
        this.startFailed = true;
        opts.onError(error);
      },
    );
  }

  /** Whether this instance should be replaced by a fresh one. */
  get broken(): boolean {
    if (Date.now() - this.createdAt < REPLACE_MIN_AGE_MS) return false;
    return this.startFailed || this.consecutiveFailures >= REPLACE_AFTER_FAILURES;
  }

  succeeded(): void {
    this.consecutiveFailures = 0;
  }

  failed(): void {
    this.consecutiveFailures += 1;
  }

  /** Pushes a changed limit after any push still in flight, so the last change wins. */
  applyLimit(limit: RateLimit): Promise<void> {
    this.settingsApplied = this.settingsApplied.then(() => this.pushSettings(limit));
    return this.settingsApplied;
  }

  private async pushSettings(limit: RateLimit): Promise<void> {
    try {
      // Typed as returning the limiter; at runtime it is a promise of it.
      await (this.bottleneck.updateSettings(bottleneckUpdate(limit)) as unknown as Promise<Bottleneck>);
    } catch (error) {
      this.onError(error);
    }
  }

  /**
   * Drops the jobs still waiting for a slot (their callers retry elsewhere), lets running ones
   * finish and free their slots in Redis for a while, then closes the connection.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const stopped = this.bottleneck.stop({ dropWaitingJobs: true }).catch(() => undefined);
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([stopped, new Promise((r) => (grace = setTimeout(r, CLOSE_GRACE_MS)))]);
    clearTimeout(grace);
    await this.connection.disconnect(false);
  }
}
