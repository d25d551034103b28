import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishCrmEvent } from '../../src/events/publish.js';
import { isEventProcessed } from '../../src/store/processed-events-repo.js';
import { type ConsumerRig, startConsumerRig } from '../helpers/consumer-rig.js';
import { waitFor } from '../helpers/wait-for.js';
import { contactEvent } from './fixtures.js';

let rig: ConsumerRig;
let inFlight = 0;
let mostInFlight = 0;
/** While holding, each handler call waits until the test lets it go. */
let holding = true;
let held: (() => void)[] = [];
const letGo = () => {
  for (const go of held) go();
  held = [];
};

beforeAll(async () => {
  rig = await startConsumerRig('consumer-backlog', {
    concurrency: 12,
    baseConcurrency: 4,
    onEvent: async () => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      if (holding) await new Promise<void>((resolve) => held.push(resolve));
      inFlight -= 1;
    },
  });
});

afterAll(async () => {
  holding = false;
  letGo();
  await rig?.close();
});

describe('the crm-events consumer under a backlog', () => {
  it('starts with narrow waves, widens them while events wait, and narrows again once drained', async () => {
    expect(rig.consumer.worker.concurrency).toBe(4);
    const ids = Array.from({ length: 60 }, (_, i) => `evt_backlog_${i}`);
    for (const id of ids) await publishCrmEvent(rig.queue, contactEvent(id));

    // The handler holds every event: 56 wait behind the first wave, so the consumer widens.
    await waitFor('the consumer to reach its widest wave', () => rig.consumer.worker.concurrency === 12);
    expect(inFlight).toBe(4);
    // A wider wave starts as the current one completes.
    letGo();
    await waitFor('a wide wave in flight', () => inFlight === 12);
    holding = false;
    letGo();
    await waitFor('every event handled and its job completed', async () => {
      const counts = await rig.queue.getJobCounts('wait', 'active', 'delayed');
      if (Object.values(counts).some((n) => n > 0)) return false;
      for (const id of ids) if (!(await isEventProcessed(rig.t.db, id))) return false;
      return true;
    });
    await waitFor('the consumer back to its narrow wave', () => rig.consumer.worker.concurrency === 4);
    expect(mostInFlight).toBe(12);
  });
});
