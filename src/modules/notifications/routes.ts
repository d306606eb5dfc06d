import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { callerOf } from '../../kernel/guards.js';
import { AppError, badRequest, serviceUnavailable } from '../../lib/errors.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { errors, Page, Strict } from '../../lib/schemas.js';
import {
  MarkReadInput,
  MarkReadResult,
  Notification,
  NotificationListQuery,
  NotificationSettings,
  NotificationSettingsInput,
  StreamHeaders,
} from './schemas.js';
import type { NotificationsService } from './service.js';

const EVENT_STREAM = 'text/event-stream';

/** EventSource sends `Accept: text/event-stream`; a client that does not ask for it gets 406. */
const acceptsEventStream = (accept: string | undefined) =>
  (accept ?? '')
    .split(',')
    .some((part) => part.split(';')[0]?.trim().toLowerCase() === EVENT_STREAM);

/** /notifications and /users/me/notification-settings: the caller's own notifications. */
const notificationsRoutes: FastifyPluginAsyncTypebox<{
  notifications: NotificationsService;
}> = async (app, { notifications }) => {
  app.get(
    '/notifications',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['notifications'],
        summary: 'List my notifications',
        description:
          'The caller’s notifications, newest first, in keyset pages; `unread=true` leaves out those marked read.',
        operationId: 'listNotifications',
        querystring: NotificationListQuery,
        response: { 200: Page(Notification), ...errors() },
      },
    },
    async (request) => {
      const { limit = 20, cursor, unread } = request.query;
      const rows = await notifications.list(callerOf(request).id, {
        limit: limit + 1,
        after: decodeCursor(cursor),
        unread,
      });
      return toPage(rows, limit);
    },
  );

  app.post(
    '/notifications/read',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['notifications'],
        summary: 'Mark notifications read',
        description:
          'Either `ids` (up to 100 of the caller’s own; any other id is ignored, never an error) or `all: true`. Marking one already read changes nothing.',
        operationId: 'markNotificationsRead',
        body: MarkReadInput,
        response: { 200: MarkReadResult, ...errors() },
      },
    },
    async (request) => {
      const { ids, all } = request.body;
      const which = all ? 'all' : ids;
      if (!which) throw badRequest('Send `ids` or `all: true`.');
      return { marked: await notifications.markRead(callerOf(request).id, which) };
    },
  );

  app.get(
    '/notifications/stream',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['notifications'],
        summary: 'Stream my notifications (Server-Sent Events)',
        description: [
          'A `text/event-stream` that sends each new notification of the caller as it is written:',
          '`id:` the notification id, `event: notification`, `data:` the Notification as JSON.',
          'Authenticated by the access token in the Authorization header only (no `access_token`',
          'query parameter: use a fetch-based EventSource that sends headers). The request must',
          'accept `text/event-stream` (406 otherwise). `Last-Event-ID` replays every notification',
          'written after that id before going live, without loss or duplicates. A comment line',
          '(`: heartbeat`) comes every 25 s. The stream ends within a second when the session ends',
          '(logout, password change or reset, account disabled or deleted), when the access token',
          'it was opened with expires (reconnect with a fresh token and `Last-Event-ID`), and when',
          'the server shuts down; at most 5 may be open per user (429 `too_many_streams`).',
        ].join(' '),
        operationId: 'streamNotifications',
        querystring: Strict({}),
        headers: StreamHeaders,
        response: {
          200: {
            description: 'The event stream; it stays open',
            content: {
              [EVENT_STREAM]: {
                schema: Type.String({
                  description:
                    'Events `id: <uuid>\\nevent: notification\\ndata: <Notification JSON>\\n\\n` and heartbeat comments',
                }),
              },
            },
          },
          ...errors(406),
        },
      },
    },
    async (request, reply) => {
      if (!acceptsEventStream(request.headers.accept)) {
        throw new AppError(406, 'not_acceptable', 'Send "Accept: text/event-stream".');
      }
      const caller = callerOf(request);
      try {
        await notifications.ready();
      } catch (error) {
        request.log.error({ err: error }, 'notification channel unavailable');
        throw serviceUnavailable('Live notifications are unavailable; try again shortly.');
      }
      notifications.reserveStream(caller.id);
      reply.hijack();
      const res = reply.raw;
      // A stream is quiet between heartbeats; the socket's idle timeout must not end it.
      request.raw.socket.setTimeout(0);
      res.writeHead(200, {
        ...(reply.getHeaders() as OutgoingHttpHeaders),
        'content-type': `${EVENT_STREAM}; charset=utf-8`,
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 3000\n\n');
      try {
        await notifications.openStream(
          caller.id,
          caller.sessionId,
          res,
          request.headers['last-event-id'] as string | undefined,
          caller.tokenExpiresAt,
        );
      } catch (error) {
        request.log.error({ err: error }, 'notification stream failed');
        res.end();
      }
    },
  );

  app.get(
    '/users/me/notification-settings',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['notifications'],
        summary: 'My notification mail settings',
        description:
          'For each kind of notification a user may choose, whether it also sends mail. Security mails are always sent.',
        operationId: 'getNotificationSettings',
        response: { 200: NotificationSettings, ...errors() },
      },
    },
    async (request) => notifications.mailSettings(callerOf(request).id),
  );

  app.put(
    '/users/me/notification-settings',
    {
      onRequest: app.requireUser,
      schema: {
        tags: ['notifications'],
        summary: 'Set my notification mail settings',
        description:
          'Replaces the choices: a kind left out of `mail` goes back to its default. Security kinds cannot be turned off (naming one is 400).',
        operationId: 'putNotificationSettings',
        body: NotificationSettingsInput,
        response: { 200: NotificationSettings, ...errors() },
      },
    },
    async (request) => notifications.saveMailSettings(callerOf(request).id, request.body.mail),
  );
};

export default notificationsRoutes;
