import { z } from 'zod';
import type { Route, RouteContext } from './route.js';
import { nowIso, parseBody } from './route.js';
import { badRequest, errorBody, notFound, SandboxHttpError } from './sandbox-errors.js';
import type { StoredList } from './sandbox-store.js';

/** Lists v3: create, find by name or id, and static memberships. */

function publicList(list: StoredList) {
  return {
    listId: list.listId,
    listVersion: 1,
    name: list.name,
    objectTypeId: list.objectTypeId,
    processingStatus: 'COMPLETE',
    processingType: list.processingType,
    createdAt: list.createdAt,
    updatedAt: list.createdAt,
    size: list.members.size,
  };
}

function listOf(ctx: RouteContext): StoredList {
  const list = ctx.store.lists.get(ctx.params.listId as string);
  if (!list) throw notFound(`List does not exist with ID ${ctx.params.listId}.`);
  return list;
}

const listCreate: Route = {
  method: 'POST',
  pattern: /^\/crm\/v3\/lists$/,
  handle(ctx) {
    const body = parseBody(
      z.object({
        name: z.string().min(1),
        objectTypeId: z.string(),
        processingType: z.enum(['MANUAL', 'DYNAMIC', 'SNAPSHOT']),
      }),
      ctx.body,
    );
    if ([...ctx.store.lists.values()].some((l) => l.name === body.name)) {
      throw new SandboxHttpError(
        409,
        errorBody('OBJECT_ALREADY_EXISTS', `A list named "${body.name}" already exists.`),
      );
    }
    return {
      status: 200,
      body: { list: publicList(ctx.store.createList(body.name, body.objectTypeId, body.processingType)) },
    };
  },
};

const listByName: Route = {
  method: 'GET',
  pattern: /^\/crm\/v3\/lists\/object-type-id\/(?<objectTypeId>[\w-]+)\/name\/(?<name>[^/]+)$/,
  handle(ctx) {
    const name = decodeURIComponent(ctx.params.name as string);
    const list = [...ctx.store.lists.values()].find(
      (l) => l.name === name && l.objectTypeId === ctx.params.objectTypeId,
    );
    if (!list) throw notFound(`List does not exist with name ${name}.`);
    return { status: 200, body: { list: publicList(list) } };
  },
};

const listById: Route = {
  method: 'GET',
  pattern: /^\/crm\/v3\/lists\/(?<listId>\d+)$/,
  handle: (ctx) => ({ status: 200, body: { list: publicList(listOf(ctx)) } }),
};

function membershipChange(add: boolean): Route {
  return {
    method: 'PUT',
    pattern: new RegExp(`^/crm/v3/lists/(?<listId>\\d+)/memberships/${add ? 'add' : 'remove'}$`),
    handle(ctx) {
      const list = listOf(ctx);
      const ids = parseBody(z.array(z.string()), ctx.body);
      if (list.processingType === 'DYNAMIC')
        throw badRequest(`List ${list.listId} is a dynamic list: its memberships cannot be changed`);
      const type = list.objectTypeId === '0-2' ? 'companies' : 'contacts';
      const missing = ids.filter((id) => !ctx.store.get(type, id));
      const present = ids.filter((id) => ctx.store.get(type, id));
      for (const id of present) add ? list.members.add(id) : list.members.delete(id);
      return {
        status: 200,
        body: {
          recordsIdsAdded: add ? present : [],
          recordIdsRemoved: add ? [] : present,
          recordIdsMissing: missing,
        },
      };
    },
  };
}

const listMembers: Route = {
  method: 'GET',
  pattern: /^\/crm\/v3\/lists\/(?<listId>\d+)\/memberships$/,
  handle(ctx) {
    const list = listOf(ctx);
    return {
      status: 200,
      body: { results: [...list.members].map((recordId) => ({ recordId, membershipTimestamp: nowIso() })) },
    };
  },
};

export const listRoutes: Route[] = [
  listCreate,
  listByName,
  listById,
  membershipChange(true),
  membershipChange(false),
  listMembers,
];
