import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { callerOf } from '../../kernel/guards.js';
import { badRequest } from '../../lib/errors.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { errors, IdParams, Page } from '../../lib/schemas.js';
import {
  MarkThreadReadInput,
  MessageInput,
  MessageListQuery,
  MessageThread,
  type MessageThreadView,
  ThreadListQuery,
  ThreadMessage,
} from './schemas.js';
import type { MessagesService } from './service.js';

const PARTIES_ONLY =
  'Only the thread’s two parties (and an administrator with `bookings:manage` while the booking is disputed) see it: any other caller gets 404.';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The thread list's cursor: the last item's (lastActivityAt, id), opaque to clients. */
const encodeThreadCursor = (thread: MessageThreadView) =>
  Buffer.from(`${thread.lastActivityAt.toISOString()}_${thread.id}`, 'utf8').toString('base64url');

function decodeThreadCursor(cursor: string | undefined) {
  if (cursor === undefined) return undefined;
  const [time, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('_');
  const at = new Date(time ?? '');
  if (!id || !UUID.test(id) || Number.isNaN(at.getTime()) || at.toISOString() !== time) {
    throw badRequest('The cursor is not valid.', [
      { path: '/querystring/cursor', message: 'is not a valid cursor' },
    ]);
  }
  return { lastActivityAt: at, id };
}

/** /threads: the caller's conversations with the other party of a job request. */
const messagesRoutes: FastifyPluginAsyncTypebox<{ messages: MessagesService }> = async (
  app,
  { messages },
) => {
  app.get(
    '/threads',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['messages'],
        summary: 'List my message threads',
        description:
          'The caller’s threads, most recent activity first, each with its unread count, in keyset pages on (lastActivityAt, id). A thread is opened when a provider first quotes on a request, or by a direct request to a provider.',
        operationId: 'listThreads',
        querystring: ThreadListQuery,
        response: { 200: Page(MessageThread), ...errors() },
      },
    },
    async (request) => {
      const { limit = 20, cursor } = request.query;
      const rows = await messages.listThreads(callerOf(request), {
        limit: limit + 1,
        after: decodeThreadCursor(cursor),
      });
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > limit && last ? encodeThreadCursor(last) : null };
    },
  );

  app.get(
    '/threads/:id/messages',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['messages'],
        summary: 'List the messages of a thread',
        description: `Newest first, in keyset pages. A deleted account's messages stay, sent by "former user". ${PARTIES_ONLY}`,
        operationId: 'listThreadMessages',
        params: IdParams,
        querystring: MessageListQuery,
        response: { 200: Page(ThreadMessage), ...errors(404) },
      },
    },
    async (request) => {
      const { limit = 20, cursor } = request.query;
      const rows = await messages.listMessages(callerOf(request), request.params.id, {
        limit: limit + 1,
        after: decodeCursor(cursor),
      });
      return toPage(rows, limit);
    },
  );

  app.post(
    '/threads/:id/messages',
    {
      onRequest: app.requireUser,
      preHandler: app.rateLimits.messagesPerUser,
      config: { idempotent: true },
      schema: {
        tags: ['messages'],
        summary: 'Send a message',
        description: `Sends \`text\` (1–4000 characters, line breaks allowed, no other control characters) to the other party, who is notified (\`message.received\`). The server stores the text as sent: it does not rewrite it (keeping an address out before booking is the client's job). Each user may send \`MESSAGE_RATE_LIMIT\` messages per \`RATE_LIMIT_WINDOW\` (30 per 60 s by default): one more is 429 \`rate_limited\`. An administrator reading a disputed thread cannot write in it. ${PARTIES_ONLY}`,
        operationId: 'sendThreadMessage',
        params: IdParams,
        body: MessageInput,
        response: { 201: ThreadMessage, ...errors(404) },
      },
    },
    async (request, reply) => {
      const message = await messages.post(callerOf(request), request.params.id, request.body.text);
      return reply.code(201).send(message);
    },
  );

  app.post(
    '/threads/:id/read',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['messages'],
        summary: 'Mark a thread read',
        description: `Marks every message up to \`upToMessageId\` (a message of this thread, else 400) read; the marker never moves back. Answers the thread with its new unread count. ${PARTIES_ONLY}`,
        operationId: 'markThreadRead',
        params: IdParams,
        body: MarkThreadReadInput,
        response: { 200: MessageThread, ...errors(404) },
      },
    },
    async (request) =>
      messages.markRead(callerOf(request), request.params.id, request.body.upToMessageId),
  );
};

export default messagesRoutes;
