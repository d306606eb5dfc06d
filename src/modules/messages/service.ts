import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { contactOf } from '../../kernel/contacts.js';
import type { Caller } from '../../kernel/guards.js';
import type { Clock } from '../../lib/clock.js';
import { badRequest, notFound } from '../../lib/errors.js';
import { enqueueMail, type MailSealer } from '../../mail/outbox.js';
import { messageMail } from '../../mail/templates.js';
import type { Jobs } from '../../plugins/jobs.js';
import type { NotificationsService } from '../notifications/service.js';
import {
  findMemberThread,
  findMessage,
  findThreadAccess,
  insertMessage,
  listMemberThreads,
  listThreadMessages,
  type MemberThreadRow,
  type MessagePageFilter,
  type MessageRow,
  markThreadRead,
  nameOf,
  openThread,
  recordActivity,
  type ThreadAccess,
  type ThreadKeys,
  type ThreadPageFilter,
} from './repository.js';
import type { MessageThreadView, ThreadMessageView } from './schemas.js';

export interface MessagesDeps {
  db: Db;
  config: Pick<Config, 'publicAppUrl'>;
  clock: Clock;
  sealer: MailSealer;
  jobs: Pick<Jobs, 'wake'>;
  logger: Logger;
  notifications: Pick<NotificationsService, 'notify' | 'shouldMail'>;
}

/** The permission that lets an administrator read the thread of a disputed booking. */
const DISPUTES = 'bookings:manage';
const NOTIFY_PREVIEW = 200;

/** The start of a message, never cutting a surrogate pair in two. */
function preview(text: string): string {
  if (text.length <= NOTIFY_PREVIEW) return text;
  let end = NOTIFY_PREVIEW - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

const noSuchThread = () => notFound('No such thread.');

export const threadView = (row: MemberThreadRow): MessageThreadView => ({
  id: row.id,
  requestId: row.requestId,
  requestTitle: row.requestTitle,
  role: row.role,
  homeowner: { id: row.homeownerId, name: row.homeownerName },
  provider: { id: row.providerId, name: row.providerName },
  booking:
    row.bookingId && row.bookingState
      ? {
          id: row.bookingId,
          state: row.bookingState as NonNullable<MessageThreadView['booking']>['state'],
        }
      : null,
  lastActivityAt: row.lastActivityAt,
  unreadCount: row.unreadCount,
  createdAt: row.createdAt,
});

const messageView = (row: MessageRow, callerId: string): ThreadMessageView => ({
  id: row.id,
  threadId: row.threadId,
  sender: { id: row.senderId, name: row.senderName },
  fromMe: row.senderId === callerId,
  text: row.body,
  createdAt: row.createdAt,
});

/**
 * Messages between a homeowner and a provider about one job request. A thread is opened by the
 * marketplace, in the transaction of the provider's first quote or of a direct request; its two
 * parties read and write it, an administrator reads it while the booking is disputed, and anyone
 * else gets 404.
 */
export class MessagesService {
  constructor(private readonly deps: MessagesDeps) {}

  /** For the marketplace, in its transaction: idempotent. */
  openThread(tx: Db, keys: ThreadKeys) {
    return openThread(tx, keys);
  }

  async listThreads(caller: Caller, filter: ThreadPageFilter) {
    return (await listMemberThreads(this.deps.db, caller.id, filter)).map(threadView);
  }

  async listMessages(caller: Caller, threadId: string, filter: MessagePageFilter) {
    await this.readable(this.deps.db, caller, threadId);
    const rows = await listThreadMessages(this.deps.db, threadId, filter);
    return rows.map((row) => messageView(row, caller.id));
  }

  /**
   * One transaction: the message, the thread's activity and unread counts, the other party's
   * notification (and mail, if they chose mail for messages).
   */
  async post(caller: Caller, threadId: string, text: string): Promise<ThreadMessageView> {
    const now = this.deps.clock.now();
    const body = text.trim();
    const row = await this.deps.db.transaction(async (tx) => {
      const thread = await findThreadAccess(tx, threadId, caller.id, true);
      if (!thread?.role) throw noSuchThread();
      const { id } = await insertMessage(tx, {
        threadId,
        senderId: caller.id,
        body,
        createdAt: now,
      });
      await recordActivity(tx, threadId, caller.id, id, now);
      await this.tellOther(tx, caller, thread, body);
      const message = await findMessage(tx, threadId, id);
      if (!message) throw new Error('the message just written is gone');
      return message;
    });
    this.deps.jobs.wake();
    return messageView(row, caller.id);
  }

  async markRead(caller: Caller, threadId: string, upToMessageId: string) {
    const db = this.deps.db;
    const thread = await findThreadAccess(db, threadId, caller.id);
    if (!thread?.role) throw noSuchThread();
    if (!(await findMessage(db, threadId, upToMessageId))) {
      throw badRequest('The request is not valid.', [
        { path: '/body/upToMessageId', message: 'is not a message of this thread' },
      ]);
    }
    await markThreadRead(db, threadId, caller.id, upToMessageId);
    const view = await findMemberThread(db, threadId, caller.id);
    if (!view) throw noSuchThread();
    return threadView(view);
  }

  /** A party, or an administrator while the booking is disputed; anyone else: 404. */
  private async readable(db: Db, caller: Caller, threadId: string): Promise<ThreadAccess> {
    const thread = await findThreadAccess(db, threadId, caller.id);
    if (!thread) throw noSuchThread();
    if (thread.role) return thread;
    if (thread.disputed && caller.permissions.includes(DISPUTES)) return thread;
    throw noSuchThread();
  }

  private async tellOther(tx: Db, caller: Caller, thread: ThreadAccess, body: string) {
    const otherId = thread.role === 'homeowner' ? thread.providerId : thread.homeownerId;
    if (!otherId) return; // the other account is gone: nobody to tell
    const from = await nameOf(tx, caller.id);
    const path = `/threads/${thread.id}/messages`;
    await this.deps.notifications.notify(tx, {
      userId: otherId,
      kind: 'message.received',
      title: `New message from ${from} about "${thread.requestTitle}"`,
      body: preview(body),
      link: path,
    });
    if (!(await this.deps.notifications.shouldMail(otherId, 'message.received', tx))) return;
    const contact = await contactOf(tx, otherId);
    if (!contact) return;
    await enqueueMail(tx, this.deps.sealer, this.deps.clock, {
      to: contact.email,
      template: 'message.received',
      content: messageMail(this.deps.config.publicAppUrl, contact.fullName, {
        from,
        title: thread.requestTitle,
        path,
      }),
    });
  }
}
