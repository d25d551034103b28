/**
 * The records one process is pushing, per integration, and the push that has each.
 *
 * Two pushes of one record at once would each start from the link as it was, and the later link
 * write would drop what the earlier one recorded (the tags the CRM owns at Mailchimp, say); a
 * batch serialises its own records in rounds, and this does the same for two batches, which the
 * micro-batcher flushes concurrently. A push waits whole, so its batch keeps its seats; it only
 * waits for pushes that began before it, so no two wait for each other. Other processes are kept
 * out by the records' leases (RecordLeases); this settles what a process can settle by itself
 * without asking Redis.
 */
export class RecordsInPush {
  /** The one a process uses unless told otherwise (a test stands two engines in one process). */
  static readonly process = new RecordsInPush();

  private readonly byIntegration = new Map<string, Map<string, Promise<void>>>();

  /**
   * Waits until no earlier push of this process holds any of these records, then holds them for
   * the caller until it calls the answer.
   */
  async take(integrationId: string, keys: readonly string[]): Promise<() => void> {
    let held = this.byIntegration.get(integrationId);
    if (!held) {
      held = new Map();
      this.byIntegration.set(integrationId, held);
    }
    const before = new Set<Promise<void>>();
    for (const key of keys) {
      const earlier = held.get(key);
      if (earlier) before.add(earlier);
    }
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    for (const key of keys) held.set(key, mine);
    await Promise.all(before);
    return () => {
      done();
      for (const key of keys) if (held.get(key) === mine) held.delete(key);
      if (held.size === 0) this.byIntegration.delete(integrationId);
    };
  }
}
