import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  createEventConsumer,
  type EventConsumer,
  type EventConsumerOptions,
} from '../../src/ingest/event-consumer.js';
import { createEventsQueue } from '../../src/ingest/event-jobs.js';
import { silentLogger } from '../../src/logging/logger.js';
import { createTestDb, type TestDb } from './test-db.js';
import { createTestRedis, deletePrefix, testPrefix } from './test-redis.js';

/** A crm-events consumer on a database and key prefix of its own, and a producer for its queue. */
export interface ConsumerRig {
  t: TestDb;
  redis: Redis;
  prefix: string;
  queue: Queue;
  consumer: EventConsumer;
  /** Closes the consumer and the queue, deletes the prefix's keys and drops the database. */
  close(): Promise<void>;
}

export async function startConsumerRig(
  label: string,
  options: Omit<EventConsumerOptions, 'connection' | 'prefix' | 'db' | 'logger'>,
): Promise<ConsumerRig> {
  const t = await createTestDb();
  const redis = createTestRedis();
  const prefix = testPrefix(label);
  const queue = createEventsQueue(redis, prefix);
  const consumer = createEventConsumer({
    connection: redis,
    prefix,
    db: t.db,
    logger: silentLogger,
    ...options,
  });
  return {
    t,
    redis,
    prefix,
    queue,
    consumer,
    async close() {
      await consumer.close();
      await queue.close();
      await deletePrefix(redis, prefix);
      await redis.quit();
      await t.drop();
    },
  };
}
