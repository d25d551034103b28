import { randomUUID } from 'node:crypto';

/**
 * Mailchimp's error answers are RFC 7807 problem+json documents. Sandbox code throws this and
 * the server writes it out, so every failure looks like the real API's.
 */
export class SandboxProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors?: { field: string; message: string }[],
    readonly headers: Record<string, string> = {},
  ) {
    super(`${status} ${title}: ${detail}`);
  }

  toJSON() {
    return {
      type: 'https://mailchimp.com/developer/marketing/docs/errors/',
      title: this.title,
      status: this.status,
      detail: this.detail,
      instance: randomUUID(),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export const notFound = () =>
  new SandboxProblem(404, 'Resource Not Found', 'The requested resource could not be found.');

export const notRemovable = () =>
  new SandboxProblem(
    405,
    'Method Not Allowed',
    'This list member cannot be removed.  Please contact support.',
    undefined,
    {
      Allow: 'GET, PUT',
    },
  );

export const invalid = (detail: string, errors?: { field: string; message: string }[]) =>
  new SandboxProblem(400, 'Invalid Resource', detail, errors);

export const complianceState = (email: string) =>
  new SandboxProblem(
    400,
    'Member In Compliance State',
    `${email} is already a list member in compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.`,
  );

export const forgotten = (email: string) =>
  new SandboxProblem(
    400,
    'Forgotten Email Not Subscribed',
    `${email} was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.`,
  );
