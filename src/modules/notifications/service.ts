import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../db/client.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { Fanout, WireNotification } from './fanout.js';
import { StreamHub, StreamLimitError } from './hub.js';
import {
  isSecurityKind,
  KIND_NAMES,
  MAIL_DEFAULTS,
  MAILABLE_KINDS,
  type MailableKind,
  type NotificationKind,
} from './kinds.js';
import {
  findMailSettings,
  insertNotification,
  listNotifications,
  markRead,
  type NotificationPageFilter,
  type NotificationRow,
  notificationsAfter,
  saveMailSettings,
} from './repository.js';
import { BODY_MAX, LINK_MAX, TITLE_MAX } from './schemas.js';

export interface NotifyInput {
  userId: string;
  kind: NotificationKind;
  /** One line, at most 200 characters (longer is cut). */
  title: string;
  /** At most 1000 characters (longer is cut). */
  body: string;
  /** The API path of what it is about, e.g. `/bookings/{id}`. */
  link?: string;
}

export interface NotificationsServiceDeps {
  db: Db;
  clock: Clock;
  logger: FastifyBaseLogger;
  fanout: Fanout;
  heartbeatMs: number;
  maxStreamsPerUser: number;
  /** Is the session still valid (not revoked, not expired, account active)? */
  sessionValid(userId: string, sessionId: string, now: Date): Promise<boolean>;
}

const cut = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

export const toWire = (row: NotificationRow): WireNotification => ({
  ...row,
  readAt: row.readAt?.toISOString() ?? null,
  createdAt: row.createdAt.toISOString(),
});

export interface MailSettings {
  mail: Record<MailableKind, boolean>;
  alwaysMailed: NotificationKind[];
}

/**
 * The notifications of every user: rows written in the transaction of the change they report,
 * delivered live to the user's open streams on any instance, listed and marked read, and the
 * user's choice of which kinds also mail.
 */
export class NotificationsService {
  readonly hub: StreamHub;

  constructor(private readonly deps: NotificationsServiceDeps) {
    this.hub = new StreamHub(
      deps.fanout,
      {
        after: async (userId, afterId, limit) =>
          (await notificationsAfter(deps.db, userId, afterId, limit)).map(toWire),
        sessionValid: (userId, sessionId) => deps.sessionValid(userId, sessionId, deps.clock.now()),
      },
      { heartbeatMs: deps.heartbeatMs, maxStreamsPerUser: deps.maxStreamsPerUser },
      deps.logger,
    );
  }

  /**
   * Writes a notification in the caller's transaction `tx`; the open streams of its user get it
   * once the transaction commits (never if it rolls back). Pass the transaction, never app.db,
   * inside one.
   */
  async notify(tx: Db, input: NotifyInput): Promise<NotificationRow> {
    const row = await insertNotification(tx, {
      userId: input.userId,
      kind: input.kind,
      title: cut(input.title.replace(/[\r\n]+/g, ' ').trim(), TITLE_MAX),
      body: cut(input.body.trim(), BODY_MAX),
      link: input.link ? input.link.slice(0, LINK_MAX) : null,
      createdAt: this.deps.clock.now(),
    });
    await this.deps.fanout.publish(tx, { t: 'n', u: input.userId, n: toWire(row) });
    return row;
  }

  /**
   * In the transaction that revokes sessions of `userId` or disables the account: once it
   * commits, each open stream of the user checks its session and ends if it is gone.
   */
  async sessionsChanged(tx: Db, userId: string): Promise<void> {
    await this.deps.fanout.publish(tx, { t: 's', u: userId });
  }

  /** For senders: does this kind of notification also go out by mail to this user? */
  async shouldMail(userId: string, kind: NotificationKind, db: Db = this.deps.db) {
    if (isSecurityKind(kind)) return true;
    return (await this.mailSettings(userId, db)).mail[kind as MailableKind];
  }

  list(userId: string, filter: NotificationPageFilter) {
    return listNotifications(this.deps.db, userId, filter);
  }

  markRead(userId: string, ids: string[] | 'all') {
    return markRead(this.deps.db, userId, ids, this.deps.clock.now());
  }

  async mailSettings(userId: string, db: Db = this.deps.db): Promise<MailSettings> {
    const stored = (await findMailSettings(db, userId)) ?? {};
    const mail = Object.fromEntries(
      MAILABLE_KINDS.map((kind) => [
        kind,
        typeof stored[kind] === 'boolean' ? stored[kind] : MAIL_DEFAULTS[kind as MailableKind],
      ]),
    ) as Record<MailableKind, boolean>;
    return { mail, alwaysMailed: KIND_NAMES.filter(isSecurityKind) };
  }

  /** Replaces the choices: a kind left out goes back to its default. */
  async saveMailSettings(userId: string, mail: Partial<Record<MailableKind, boolean>>) {
    await saveMailSettings(this.deps.db, userId, mail, this.deps.clock.now());
    return this.mailSettings(userId);
  }

  /**
   * Opens a stream on `res` (already answered 200 with text/event-stream headers by the caller).
   * Throws 429 too_many_streams, before anything is written, when the user has too many.
   */
  reserveStream(userId: string) {
    try {
      this.hub.reserve(userId);
    } catch (error) {
      if (error instanceof StreamLimitError) {
        throw new AppError(
          429,
          'too_many_streams',
          `At most ${this.deps.maxStreamsPerUser} notification streams may be open at once; close one first.`,
          undefined,
          { 'retry-after': '5' },
        );
      }
      throw error;
    }
  }

  async openStream(
    userId: string,
    sessionId: string,
    res: ServerResponse,
    lastEventId: string | undefined,
    /** When the access token the stream was opened with expires: the stream ends then. */
    tokenExpiresAt?: Date,
  ) {
    const lifetimeMs = tokenExpiresAt
      ? tokenExpiresAt.getTime() - this.deps.clock.now().getTime()
      : undefined;
    await this.hub.open(userId, sessionId, res, lastEventId, lifetimeMs);
  }

  /** Subscribes this instance to the fan-out channel (once). */
  ready() {
    return this.hub.ready();
  }

  close() {
    return this.hub.close();
  }
}
