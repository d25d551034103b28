import type { Integration } from '../integrations/schema.js';
import type { Logger } from '../logging/logger.js';
import { TRANSIENT_LOOKUP_RETRY_MS } from './account-key.js';
import { buildRuntime, type IntegrationRuntime, type RuntimeDeps } from './integration-runtime.js';

/** How the registry reads integrations: the repository in production, anything in tests. */
export interface IntegrationSource {
  /** The integration and its decrypted credentials, or null when it no longer exists. */
  load(id: string): Promise<{ integration: Integration; credentials: Record<string, unknown> } | null>;
  /** Enabled integrations of one organization (without credentials). */
  listEnabled(organizationId: string): Promise<Integration[]>;
  /** Every enabled integration (to start their sync workers). */
  listAllEnabled(): Promise<Integration[]>;
  /** The stored row as it is now (cheap: no credentials), to notice changes; null when deleted. */
  current(id: string): Promise<Integration | null>;
}

interface Entry {
  runtime: IntegrationRuntime;
  stamp: number;
  checkedAt: number;
}

/**
 * Builds each integration's runtime once and rebuilds it when its stored row changes
 * (`updated_at`), checking at most every `refreshMs`: the hot path reads memory, and an
 * `integrations apply` or pause takes effect within that interval in every worker.
 */
export class RuntimeRegistry {
  private readonly entries = new Map<string, Promise<Entry | null>>();
  private readonly orgs = new Map<string, { at: number; integrations: Promise<Integration[]> }>();

  constructor(
    private readonly source: IntegrationSource,
    private readonly deps: RuntimeDeps,
    private readonly refreshMs = 2000,
    private readonly logger?: Logger,
  ) {}

  /** The runtimes of an organization's enabled integrations (a failing one is logged and left out). */
  async forOrganization(organizationId: string): Promise<IntegrationRuntime[]> {
    const integrations = await this.listEnabled(organizationId);
    const runtimes = await Promise.all(integrations.map((i) => this.fromRow(i).catch(() => null)));
    return runtimes.filter((r): r is IntegrationRuntime => r !== null);
  }

  /** The runtime for an id, rebuilt if the integration changed; null when it was deleted. */
  async get(id: string): Promise<IntegrationRuntime | null> {
    const entry = await this.entries.get(id)?.catch(() => null);
    if (!entry) return this.reload(id);
    if (Date.now() - entry.checkedAt < this.refreshMs) return entry.runtime;
    const row = await this.source.current(id);
    if (!row) {
      this.invalidate(id);
      return null;
    }
    return this.fromRow(row);
  }

  /** Drops cached state so the next access reads the database (after a pause, an apply). */
  invalidate(id?: string): void {
    if (id === undefined) {
      this.entries.clear();
      this.orgs.clear();
      return;
    }
    this.entries.delete(id);
    this.orgs.clear();
  }

  async close(): Promise<void> {
    const entries = await Promise.all(this.entries.values());
    this.entries.clear();
    await Promise.allSettled(entries.map((e) => e?.runtime.close()));
  }

  private async listEnabled(organizationId: string): Promise<Integration[]> {
    const cached = this.orgs.get(organizationId);
    if (cached && Date.now() - cached.at < this.refreshMs) return cached.integrations;
    const integrations = this.source.listEnabled(organizationId);
    this.orgs.set(organizationId, { at: Date.now(), integrations });
    integrations.catch(() => this.orgs.delete(organizationId));
    return integrations;
  }

  private async fromRow(row: Integration): Promise<IntegrationRuntime | null> {
    const pending = this.entries.get(row.id);
    const entry = await pending?.catch(() => null);
    // Callers that waited together (an organization's routes share one read) share one reload:
    // each starting its own would close the runtime the one before had just built.
    const current = this.entries.get(row.id);
    if (current && current !== pending) return current.then((e) => e?.runtime ?? null);
    if (entry && entry.stamp === row.updatedAt.getTime()) {
      entry.runtime.integration = row;
      entry.checkedAt = Date.now();
      const due = entry.runtime.rebuildAt !== undefined && Date.now() >= entry.runtime.rebuildAt;
      if (due && current) this.rebuildInBackground(row.id, entry, current);
      return entry.runtime;
    }
    return this.reload(row.id);
  }

  /**
   * A runtime built on a stand-in account key (its account lookup failed) asks again when its
   * time comes, while it keeps serving: the lookup can take its whole timeout (10 s) when the
   * provider is unreachable, and routing must not wait for it. The new runtime replaces the old
   * one only if nothing else did meanwhile; a failed rebuild asks again a minute later.
   */
  private rebuildInBackground(id: string, entry: Entry, current: Promise<Entry | null>): void {
    entry.runtime.rebuildAt = Date.now() + TRANSIENT_LOOKUP_RETRY_MS;
    void (async () => {
      const loaded = await this.source.load(id);
      if (!loaded || loaded.integration.updatedAt.getTime() !== entry.stamp) return;
      const runtime = await buildRuntime(loaded.integration, loaded.credentials, this.deps);
      if (this.entries.get(id) !== current) {
        await runtime.close();
        return;
      }
      this.entries.set(id, Promise.resolve({ runtime, stamp: entry.stamp, checkedAt: Date.now() }));
      await entry.runtime.close().catch(() => {});
    })().catch((error: unknown) =>
      this.logger?.warn(
        { integration: entry.runtime.integration.key, err: (error as Error).message },
        'could not rebuild the integration to ask for its account again; it keeps its stand-in key',
      ),
    );
  }

  private reload(id: string): Promise<IntegrationRuntime | null> {
    const previous = this.entries.get(id);
    const next = (async (): Promise<Entry | null> => {
      const loaded = await this.source.load(id);
      const old = await previous?.catch(() => null);
      if (old) await old.runtime.close().catch(() => {});
      if (!loaded) return null;
      try {
        const runtime = await buildRuntime(loaded.integration, loaded.credentials, this.deps);
        return { runtime, stamp: loaded.integration.updatedAt.getTime(), checkedAt: Date.now() };
      } catch (error) {
        this.logger?.error(
          { integration: loaded.integration.key, err: (error as Error).message },
          'integration unusable',
        );
        throw error;
      }
    })();
    this.entries.set(id, next);
    next.catch(() => this.entries.delete(id));
    return next.then((e) => e?.runtime ?? null);
  }
}
