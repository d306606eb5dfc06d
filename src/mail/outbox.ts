import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Db } from '../db/client.js';
import { mailOutbox } from '../db/schema.js';
import { insertJob } from '../jobs/repository.js';
import type { JobDefinition } from '../jobs/types.js';
import type { Clock } from '../lib/clock.js';
import type { MailContent, MailTemplate } from './templates.js';
import type { MailTransport } from './transport.js';

/**
 * The body of a queued mail holds a live token, so it is sealed with AES-256-GCM under a key
 * derived from MAIL_SEAL_SECRET: a copy of the database alone does not reveal it.
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

/** Whatever delivers queued mail: the job worker, woken after a commit so mail goes out at once. */
export interface MailWorker {
  wake(): void;
}

export const MAIL_DELIVERY_JOB = 'mail.deliver';
/** 2 s, 4 s, 8 s … capped at 15 minutes; given up after 12 attempts (about 47 minutes of backoff). */
const MAIL_BACKOFF = { baseSeconds: 2, maxSeconds: 900 };
const MAIL_MAX_ATTEMPTS = 12;
/** SMTP gives up well within this (10 s connect, 10 s greeting, 20 s socket). */
const MAIL_LEASE_SECONDS = 60;

/**
 * Writes a mail and the job that delivers it in the caller's transaction: it is sent only if
 * that transaction commits.
 */
export async function enqueueMail(tx: Db, sealer: MailSealer, clock: Clock, mail: QueuedMail) {
  const [row] = await tx
    .insert(mailOutbox)
    .values({
      recipient: mail.to,
      subject: mail.content.subject,
      template: mail.template,
      payload: sealer.seal(mail.content),
    })
    .returning({ id: mailOutbox.id });
  if (!row) throw new Error('mail insert returned nothing');
  await insertJob(tx, {
    name: MAIL_DELIVERY_JOB,
    key: row.id,
    payload: { mailId: row.id },
    runAt: clock.now(),
    maxAttempts: MAIL_MAX_ATTEMPTS,
  });
}

interface MailDeliveryDeps {
  db: Db;
  transport: MailTransport;
  sealer: MailSealer;
  clock: Clock;
  logger: Logger;
}

/**
 * Delivers one queued mail; the job queue retries it with backoff. At-least-once: a crash
 * between the SMTP answer and the "sent" update sends it again. The row keeps the attempts and
 * the last error for operators, and loses its body once sent or given up.
 */
export function mailDeliveryJob(deps: MailDeliveryDeps): JobDefinition<{ mailId: string }> {
  const { db, transport, sealer, clock, logger } = deps;
  const pending = (id: string) => and(eq(mailOutbox.id, id), eq(mailOutbox.status, 'pending'));
  return {
    name: MAIL_DELIVERY_JOB,
    maxAttempts: MAIL_MAX_ATTEMPTS,
    backoff: MAIL_BACKOFF,
    leaseSeconds: MAIL_LEASE_SECONDS,
    async run({ mailId }, job) {
      const [row] = await db.select().from(mailOutbox).where(pending(mailId));
      if (!row) return; // already sent or given up: a second run changes nothing
      try {
        if (!row.payload) throw new Error('mail has no payload');
        await transport.send({ id: row.id, to: row.recipient, ...sealer.open(row.payload) });
      } catch (error) {
        const giveUp = job.attempt >= job.maxAttempts;
        const message = error instanceof Error ? error.message : String(error);
        await db
          .update(mailOutbox)
          .set({
            attempts: job.attempt,
            lastError: message.slice(0, 500),
            ...(giveUp ? { status: 'failed' as const, payload: null } : {}),
          })
          .where(pending(row.id));
        logger.warn(
          { mailId: row.id, attempt: job.attempt, giveUp, err: message },
          'mail delivery failed',
        );
        throw error;
      }
      await db
        .update(mailOutbox)
        .set({
          status: 'sent',
          sentAt: clock.now(),
          payload: null,
          lastError: null,
          attempts: job.attempt,
        })
        .where(pending(row.id));
      logger.info({ mailId: row.id, template: row.template }, 'mail delivered');
    },
  };
}
