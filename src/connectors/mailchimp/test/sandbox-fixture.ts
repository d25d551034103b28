import { randomBytes } from 'node:crypto';
import { createMailchimpSandbox, type Limits } from '../sandbox/index.js';
import type { MailchimpSettingsInput } from '../settings.js';
import { harness } from './fixtures.js';

/** A fresh API key in Mailchimp's shape, so no two tests share an account by accident. */
export const newKey = () => `${randomBytes(16).toString('hex')}-us1`;

/**
 * A started sandbox with one account and one audience, and connector clients pointed at it.
 * Call `stop()` in afterAll.
 */
export async function startSandbox(limits: Partial<Limits> = {}) {
  const sandbox = createMailchimpSandbox({ limits });
  const { url } = await sandbox.start();
  const key = newKey();
  sandbox.addAccount(key, 'acme');
  let lists = 0;
  return {
    sandbox,
    url,
    key,
    /** A new audience (default merge fields unless given) and a client for it. */
    audience(
      settings: Omit<MailchimpSettingsInput, 'listId'> = {},
      mergeFields?: Parameters<typeof sandbox.addAudience>[0]['mergeFields'],
      id?: string,
    ) {
      lists += 1;
      const listId = id ?? `list${lists}`;
      sandbox.addAudience({ id: listId, apiKey: key, ...(mergeFields ? { mergeFields } : {}) });
      return { listId, ...harness({ listId, baseUrl: url, ...settings }, key) };
    },
    stop: () => sandbox.stop(),
  };
}

/**
 * A plain HTTP call to a sandbox at `baseUrl` with an API key, as any client would make it (no
 * SDK in between): status, content type, headers and the parsed JSON body (null when empty).
 */
export async function sandboxCall(
  baseUrl: string,
  apiKey: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const answer = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`anystring:${apiKey}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await answer.text();
  return {
    status: answer.status,
    type: answer.headers.get('content-type'),
    headers: answer.headers,
    body: text ? JSON.parse(text) : null,
  };
}
