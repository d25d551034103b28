import { MicroBatcher } from '../engine/micro-batcher.js';
import type { Queryable } from '../store/failures-repo.js';
import { claimEvents, type EventClaim } from '../store/processed-events-repo.js';

/**
 * The consumer's duplicate check, batched: the events being consumed at once share one claim
 * statement instead of a round trip each. Same answers as `claimEvents` one by one, except that
 * two claims of one id in one batch are decided in the order they were made.
 */
export class EventClaims {
  private readonly claims: MicroBatcher<EventClaim, boolean>;

  constructor(db: Queryable, windowMs = 2) {
    this.claims = new MicroBatcher({
      name: 'processed-events claims',
      maxSize: 500,
      windowMs,
      flush: async (claims) => {
        const claimed = await claimEvents(db, claims);
        // Only the first claim of an id in the batch can be the one that won it.
        const answered = new Set<string>();
        return claims.map(({ eventId }) => {
          if (answered.has(eventId)) return false;
          answered.add(eventId);
          return claimed.has(eventId);
        });
      },
    });
  }

  /** True when this delivery may route the event; false when another delivery has it. */
  claim(claim: EventClaim): Promise<boolean> {
    return this.claims.add(claim);
  }

  async close(): Promise<void> {
    await this.claims.close();
  }
}
