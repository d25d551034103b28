import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { WebhookDelivery } from '../delivery.js';
import { STATUS_TABLE } from '../error-table.js';

const doc = readFileSync(new URL('../../../../docs/connectors/webhook.md', import.meta.url), 'utf8');

describe('docs/connectors/webhook.md', () => {
  it('prints the delivery JSON Schema exactly as the code generates it', () => {
    const block =
      /<!-- delivery-schema:start -->\n```json\n([\s\S]*?)\n```\n<!-- delivery-schema:end -->/.exec(doc);
    expect(block?.[1]).toBeDefined();
    expect(JSON.parse(block?.[1] ?? 'null')).toEqual(z.toJSONSchema(WebhookDelivery, { io: 'input' }));
  });

  it('documents every row of the status table', () => {
    const documented = doc.slice(
      doc.indexOf('## How answers are classified'),
      doc.indexOf('## Where deliveries'),
    );
    for (const [status, rule] of Object.entries(STATUS_TABLE)) {
      expect(documented, `status ${status}`).toMatch(
        new RegExp(`\\|[^|\\n]*${status}[^|\\n]*\\|\\s*${rule.kind}\\s*\\|`),
      );
    }
  });
});
