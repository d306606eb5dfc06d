import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import type { TestUser } from '../helpers/users.js';
import {
  type Homeowner,
  homeowner,
  openRequest,
  type Provider,
  provider,
  submitQuote,
} from '../marketplace/support.js';

/** A homeowner's request, a provider's quote on it, and the thread that quote opened. */
export async function quotedThread(
  t: TestContext,
  parties?: { owner?: Homeowner; pro?: Provider },
) {
  const owner = parties?.owner ?? (await homeowner(t));
  const pro = parties?.pro ?? (await provider(t));
  const requestId = await openRequest(t, owner);
  const quoteId = await submitQuote(t, pro, requestId);
  const threadId = await threadOf(t, owner, requestId);
  return { owner, pro, requestId, quoteId, threadId };
}

export async function threads(t: TestContext, user: TestUser, query = '') {
  const res = await t.app.inject({ method: 'GET', url: `/threads${query}`, headers: user.headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: Array<Record<string, unknown>>; nextCursor: string | null };
}

export async function threadOf(t: TestContext, user: TestUser, requestId: string) {
  const { items } = await threads(t, user, '?limit=100');
  const thread = items.find((item) => item.requestId === requestId);
  expect(thread, 'the thread of the request').toBeDefined();
  return thread?.id as string;
}

export function send(
  t: TestContext,
  user: TestUser,
  threadId: string,
  text: unknown,
  headers: Record<string, string> = {},
) {
  return t.app.inject({
    method: 'POST',
    url: `/threads/${threadId}/messages`,
    headers: { ...user.headers, ...headers },
    payload: { text },
  });
}

export async function say(t: TestContext, user: TestUser, threadId: string, text: string) {
  const res = await send(t, user, threadId, text);
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; text: string };
}

export function messagesOf(t: TestContext, user: TestUser, threadId: string, query = '') {
  return t.app.inject({
    method: 'GET',
    url: `/threads/${threadId}/messages${query}`,
    headers: user.headers,
  });
}

export function markRead(t: TestContext, user: TestUser, threadId: string, upToMessageId: string) {
  return t.app.inject({
    method: 'POST',
    url: `/threads/${threadId}/read`,
    headers: user.headers,
    payload: { upToMessageId },
  });
}

type Rows = { rows: Array<Record<string, unknown>> };
export const rows = async (t: TestContext, query: ReturnType<typeof sql>) =>
  ((await t.app.db.execute(query)) as unknown as Rows).rows;

/** The notifications of a user, oldest first. */
export const notificationsOf = (t: TestContext, userId: string) =>
  rows(
    t,
    sql`select kind, title, body, link from notifications where user_id = ${userId} order by id`,
  );

/** The mails queued to an address, by template. */
export const mailsTo = (t: TestContext, email: string) =>
  rows(t, sql`select template from mail_outbox where recipient = ${email} order by id`);

/** Every key of a JSON value, at any depth. */
export function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
  }
  return [];
}

/** Keys that would carry a place or a way to reach someone. */
export const ADDRESS_KEYS =
  /^(address\w*|street\w*|line[12]|postalCode|zip|city|region|state_?province|country\w*|latitude|longitude|email|phone)$/i;
