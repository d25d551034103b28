-- Up Migration
-- Which delivery of an event routed it (see src/store/processed-events-repo.ts, claimEvents):
-- a redelivery of the same job may route it again (the router is idempotent), any other
-- delivery of the same event id is a duplicate. NULL for rows written before claims existed:
-- those events are done, so every later delivery of them is a duplicate.
ALTER TABLE crm_sync.processed_events ADD COLUMN delivery text;

-- Down Migration
ALTER TABLE crm_sync.processed_events DROP COLUMN delivery;
