import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Db } from '../db/client.js';
import { mailOutbox } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import type { MailContent, MailTemplate } from './templates.js';
import type { MailTransport } from './transport.js';

/**
 * The body of a queued mail holds a live token, so it is sealed with AES-256-GCM under a key
 * derived from the server secret: a copy of the database alone does not reveal it.
 */
export class MailSealer {
  private readonly key: Buffer;
  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, 'homefront', 'mail-outbox-v1', 32));
  }
  seal(content: MailContent): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(content), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }
  open(sealed: string): MailContent {
    const raw = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return JSON.parse(
      Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8'),
    );
  }
}

export interface QueuedMail {
  to: string;
  template: MailTemplate;
  content: MailContent;
}

/** Writes a mail in the caller's transaction; it is sent only if that transaction commits. */
export async function enqueueMail(tx: Db, sealer: MailSealer, clock: Clock, mail: QueuedMail) {
  await tx.insert(mailOutbox).values({
    recipient: mail.to,
    subject: mail.content.subject,
    template: mail.template,
    payload: sealer.seal(mail.content),
    nextAttemptAt: clock.now(),
  });
}

const BATCH = 10;
const LEASE_SECONDS = 60;
const MAX_ATTEMPTS = 12;
const POLL_MS = 2_000;

/** 2 s, 4 s, 8 s … capped at 15 minutes. */
export function backoffSeconds(attempt: number): number {
  return Math.min(2 ** attempt, 900);
}

/**
 * Delivers queued mail with retries and backoff. Rows are claimed with SKIP LOCKED and a lease,
 * so several instances share the queue and a crashed sender's mail is retried after the lease.
 * Delivery is at-least-once: a crash between the SMTP answer and the "sent" update resends.
 */
export class MailWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(
    private readonly db: Db,
    private readonly transport: MailTransport,
    private readonly sealer: MailSealer,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  start() {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), POLL_MS);
    this.timer.unref();
    this.wake();
  }

  async stop() {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
    this.transport.close();
  }

  /** Runs a delivery pass now (or right after the current one). */
  wake(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.drain()
      .catch((error) => this.logger.warn({ err: error }, 'mail outbox pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          void this.wake();
        }
      });
    return this.running;
  }

  private async drain() {
    for (;;) {
      const batch = await this.claim();
      if (batch.length === 0) return;
      await Promise.all(batch.map((row) => this.deliver(row)));
      if (batch.length < BATCH || this.stopped) return;
    }
  }

  private async claim() {
    const now = this.clock.now();
    const due = this.db
      .select({ id: mailOutbox.id })
      .from(mailOutbox)
      .where(and(eq(mailOutbox.status, 'pending'), lte(mailOutbox.nextAttemptAt, now)))
      .orderBy(asc(mailOutbox.nextAttemptAt))
      .limit(BATCH)
      .for('update', { skipLocked: true });
    return this.db
      .update(mailOutbox)
      .set({
        nextAttemptAt: new Date(now.getTime() + LEASE_SECONDS * 1000),
        attempts: sql`${mailOutbox.attempts} + 1`,
      })
      .where(inArray(mailOutbox.id, due))
      .returning();
  }

  private async deliver(row: typeof mailOutbox.$inferSelect) {
    try {
      if (!row.payload) throw new Error('mail has no payload');
      const content = this.sealer.open(row.payload);
      await this.transport.send({ id: row.id, to: row.recipient, ...content });
      await this.db
        .update(mailOutbox)
        .set({ status: 'sent', sentAt: this.clock.now(), payload: null, lastError: null })
        .where(eq(mailOutbox.id, row.id));
      this.logger.info({ mailId: row.id, template: row.template }, 'mail delivered');
    } catch (error) {
      const giveUp = row.attempts >= MAX_ATTEMPTS;
      const message = error instanceof Error ? error.message : String(error);
      await this.db
        .update(mailOutbox)
        .set({
          status: giveUp ? 'failed' : 'pending',
          payload: giveUp ? null : row.payload,
          lastError: message.slice(0, 500),
          nextAttemptAt: new Date(this.clock.now().getTime() + backoffSeconds(row.attempts) * 1000),
        })
        .where(eq(mailOutbox.id, row.id));
      this.logger.warn(
        { mailId: row.id, attempt: row.attempts, giveUp, err: message },
        'mail delivery failed',
      );
    }
  }
}
