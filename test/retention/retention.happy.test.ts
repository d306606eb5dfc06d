import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auditEvents,
  idempotencyKeys,
  jobs,
  mailOutbox,
  mfaChallenges,
  notifications,
  oneTimeTokens,
  passkeyChallenges,
  refreshTokens,
  sessions,
  signInDevices,
} from '../../src/db/schema.js';
import { retentionCutoffs } from '../../src/modules/retention/job.js';
import { retentionTargets } from '../../src/modules/retention/repository.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser } from '../helpers/users.js';
import { metric } from '../jobs/support.js';

/**
 * RETENTION_DAYS=30, AUDIT_RETENTION_DAYS=365, a session lives 45 days, batches of 2; sign-in
 * devices are remembered 90 days. Every row
 * is placed some days either side of its cut-off; retention must delete exactly the old ones.
 */
const ENV = {
  RETENTION_DAYS: '30',
  AUDIT_RETENTION_DAYS: '365',
  RETENTION_BATCH_SIZE: '2',
  NOTIFICATION_RETENTION_DAYS: '90',
  REFRESH_TOKEN_TTL: String(45 * 86_400),
};

let t: TestContext;
let userId: string;
const kept: Record<string, string[]> = {};
const gone: Record<string, string[]> = {};

const daysAgo = (days: number) => new Date(t.clock.now().getTime() - days * 86_400_000);
const note = (table: string, id: string, deleted: boolean) => {
  const bucket = deleted ? gone : kept;
  bucket[table] = [...(bucket[table] ?? []), id];
  return id;
};

async function session(values: { created: number; expires: number; revoked?: number }) {
  const [row] = await t.app.db
    .insert(sessions)
    .values({
      userId,
      createdAt: daysAgo(values.created),
      lastUsedAt: daysAgo(values.created),
      expiresAt: daysAgo(values.expires),
      revokedAt: values.revoked === undefined ? null : daysAgo(values.revoked),
    })
    .returning({ id: sessions.id });
  return row!.id;
}

async function refreshToken(sessionId: string, usedDaysAgo: number | null) {
  const [row] = await t.app.db
    .insert(refreshTokens)
    .values({
      sessionId,
      tokenHash: `hash-${Math.random()}`,
      usedAt: usedDaysAgo === null ? null : daysAgo(usedDaysAgo),
    })
    .returning({ id: refreshTokens.id });
  return row!.id;
}

beforeAll(async () => {
  t = await createTestApp({ noSmtp: true, env: ENV });
  userId = (await createUser(t)).id;

  // Sessions die at expiry or revocation; 30 days after that they go, with their refresh tokens.
  const expiredLongAgo = note('sessions', await session({ created: 85, expires: 40 }), true);
  note('sessions', await session({ created: 40, expires: -5, revoked: 31 }), true);
  note('sessions', await session({ created: 60, expires: 29 }), false);
  note('sessions', await session({ created: 10, expires: -35, revoked: 5 }), false);
  const live = note('sessions', await session({ created: 42, expires: -3 }), false);
  const expiredLately = note('sessions', await session({ created: 50, expires: 5 }), false);

  // Used refresh tokens go after max(30 days, the 45-day session lifetime): reuse detection holds.
  note('refresh_tokens_cascaded', await refreshToken(expiredLongAgo, null), true);
  note('refresh_tokens', await refreshToken(live, 41), false);
  note('refresh_tokens', await refreshToken(live, 1), false);
  note('refresh_tokens', await refreshToken(live, null), false);
  note('refresh_tokens', await refreshToken(expiredLately, 49), true);
  note('refresh_tokens', await refreshToken(expiredLately, null), false);

  // One-time tokens go 30 days after use or expiry.
  const oneTime = [
    { consumed: 31, expires: 30.9, deleted: true },
    { consumed: null, expires: 31, deleted: true },
    { consumed: 29, expires: 28, deleted: false },
    { consumed: null, expires: 10, deleted: false },
    { consumed: null, expires: -1, deleted: false },
  ];
  for (const [i, token] of oneTime.entries()) {
    const [row] = await t.app.db
      .insert(oneTimeTokens)
      .values({
        userId,
        purpose: 'reset_password',
        tokenHash: `one-time-${i}-${Math.random()}`,
        createdAt: daysAgo(token.expires + 1),
        expiresAt: daysAgo(token.expires),
        consumedAt: token.consumed === null ? null : daysAgo(token.consumed),
      })
      .returning({ id: oneTimeTokens.id });
    note('one_time_tokens', row!.id, token.deleted);
  }

  // MFA sign-in challenges, likewise: 30 days after they were answered, voided or expired.
  for (const [i, challenge] of oneTime.entries()) {
    const [row] = await t.app.db
      .insert(mfaChallenges)
      .values({
        userId,
        tokenHash: `challenge-${i}-${Math.random()}`,
        createdAt: daysAgo(challenge.expires + 1),
        expiresAt: daysAgo(challenge.expires),
        consumedAt: challenge.consumed === null ? null : daysAgo(challenge.consumed),
      })
      .returning({ id: mfaChallenges.id });
    note('mfa_challenges', row!.id, challenge.deleted);
  }

  // Mail goes 30 days after it was queued, once sent or given up; pending mail never.
  const mails = [
    { status: 'sent', age: 31, deleted: true },
    { status: 'failed', age: 40, deleted: true },
    { status: 'sent', age: 29, deleted: false },
    { status: 'pending', age: 40, deleted: false },
  ] as const;
  for (const mail of mails) {
    const [row] = await t.app.db
      .insert(mailOutbox)
      .values({
        recipient: 'someone@example.com',
        subject: 'Old news',
        template: 'verify_email',
        status: mail.status,
        createdAt: daysAgo(mail.age),
        sentAt: mail.status === 'sent' ? daysAgo(mail.age) : null,
      })
      .returning({ id: mailOutbox.id });
    note('mail_outbox', row!.id, mail.deleted);
  }

  // Finished jobs go 30 days after they finished; a pending job stays however old.
  const finished = [
    { state: 'done', age: 31, deleted: true },
    { state: 'failed', age: 31, deleted: true },
    { state: 'done', age: 29, deleted: false },
    { state: 'pending', age: 40, deleted: false },
  ] as const;
  for (const job of finished) {
    const [row] = await t.app.db
      .insert(jobs)
      .values({
        name: 'test.nobody-runs-this',
        state: job.state,
        runAt: daysAgo(job.age),
        maxAttempts: 1,
        finishedAt: job.state === 'pending' ? null : daysAgo(job.age),
      })
      .returning({ id: jobs.id });
    note('jobs', row!.id, job.deleted);
  }

  // Idempotency keys carry their expiry (24 h after first use): gone once it has passed.
  const hoursAhead = (hours: number) => new Date(t.clock.now().getTime() + hours * 3_600_000);
  for (const [i, key] of [
    { expires: -24, state: 'done', deleted: true },
    { expires: 0.5, state: 'pending', deleted: true }, // passed by the run, an hour from now
    { expires: 2, state: 'done', deleted: false },
    { expires: 23, state: 'pending', deleted: false },
  ].entries()) {
    const [row] = await t.app.db
      .insert(idempotencyKeys)
      .values({
        userId,
        key: `key-${i}`,
        method: 'POST',
        path: '/anything',
        fingerprint: 'f'.repeat(64),
        state: key.state as 'done' | 'pending',
        claim: crypto.randomUUID(),
        lockedUntil: hoursAhead(key.expires - 24),
        statusCode: key.state === 'done' ? 201 : null,
        createdAt: hoursAhead(key.expires - 24),
        expiresAt: hoursAhead(key.expires),
      })
      .returning({ id: idempotencyKeys.id });
    note('idempotency_keys', row!.id, key.deleted);
  }

  // Notifications: read ones go 90 days after they were read; unread ones stay however old.
  for (const [created, read, deleted] of [
    [200, 100, true],
    [120, 95, true],
    [92, 91, true],
    [100, 89, false],
    [300, null, false],
    [1, 0, false],
  ] as const) {
    const [row] = await t.app.db
      .insert(notifications)
      .values({
        userId,
        kind: 'booking.updated',
        title: 'Old news',
        body: 'A booking moved',
        createdAt: daysAgo(created),
        readAt: read === null ? null : daysAgo(read),
      })
      .returning({ id: notifications.id });
    note('notifications', row!.id, deleted);
  }

  // Unanswered passkey challenges go once expired (answered ones were deleted as they were read).
  for (const [hours, deleted] of [
    [-1, true],
    [0.5, true], // passed by the run, an hour from now
    [2, false],
  ] as const) {
    const [row] = await t.app.db
      .insert(passkeyChallenges)
      .values({
        purpose: 'sign_in',
        challenge: `challenge-${hours}`,
        createdAt: hoursAhead(hours - 0.1),
        expiresAt: hoursAhead(hours),
      })
      .returning({ id: passkeyChallenges.id });
    note('passkey_challenges', row!.id, deleted);
  }

  // Sign-in devices not seen for 90 days (DEVICE_MEMORY_DAYS) count as new anyway and go, but
  // an account's newest one stays: after a long absence a sign-in is a new device, not the first.
  const dormant = (await createUser(t)).id;
  for (const [owner, age, deleted] of [
    [userId, 200, true],
    [userId, 120, true],
    [userId, 91, true],
    [userId, 89, false],
    [userId, 1, false],
    [dormant, 300, true],
    [dormant, 200, false],
  ] as const) {
    const [row] = await t.app.db
      .insert(signInDevices)
      .values({
        userId: owner,
        deviceHash: `device-${age}`,
        firstSeenAt: daysAgo(age + 10),
        lastSeenAt: daysAgo(age),
      })
      .returning({ id: signInDevices.id });
    note('sign_in_devices', row!.id, deleted);
  }

  // The audit trail has its own, longer retention.
  for (const [age, deleted] of [
    [400, true],
    [399, true],
    [398, true],
    [380, true],
    [366, true],
    [364, false],
    [31, false],
  ] as const) {
    const [row] = await t.app.db
      .insert(auditEvents)
      .values({ type: 'test.old_event', subjectId: userId, createdAt: daysAgo(age) })
      .returning({ id: auditEvents.id });
    note('audit_events', row!.id, deleted);
  }
});
afterAll(() => t?.close());

const TABLES = {
  sessions,
  refresh_tokens: refreshTokens,
  refresh_tokens_cascaded: refreshTokens,
  one_time_tokens: oneTimeTokens,
  mfa_challenges: mfaChallenges,
  mail_outbox: mailOutbox,
  jobs,
  idempotency_keys: idempotencyKeys,
  notifications,
  passkey_challenges: passkeyChallenges,
  sign_in_devices: signInDevices,
  audit_events: auditEvents,
};

async function remaining(table: keyof typeof TABLES, ids: string[]) {
  const from = TABLES[table];
  const rows = await t.app.db.select({ id: from.id }).from(from).where(inArray(from.id, ids));
  return rows.map((row) => row.id).sort();
}

/** The next hourly retention run, through the real job queue. */
async function runRetention() {
  t.clock.advance(3600);
  await t.app.jobs.runDue();
}

describe('retention', () => {
  it('deletes exactly the rows past their age, and nothing else', async () => {
    await runRetention();
    for (const table of Object.keys(TABLES) as Array<keyof typeof TABLES>) {
      expect(await remaining(table, gone[table] ?? []), `${table}: deleted`).toEqual([]);
      expect(await remaining(table, kept[table] ?? []), `${table}: kept`).toEqual(
        [...(kept[table] ?? [])].sort(),
      );
    }
  });

  it('deletes in batches and reports what it did in the log and /metrics', async () => {
    const line = t.logs.filter((entry) => entry.includes('"msg":"retention done"')).at(-1);
    const report = JSON.parse(line!).deleted as Record<
      string,
      { deleted: number; batches: number }
    >;
    expect(report).toEqual({
      mail_outbox: { deleted: 2, batches: 2 },
      sessions: { deleted: 2, batches: 2 },
      refresh_tokens: { deleted: 1, batches: 1 },
      one_time_tokens: { deleted: 2, batches: 2 },
      mfa_challenges: { deleted: 2, batches: 2 },
      jobs: { deleted: 2, batches: 2 },
      idempotency_keys: { deleted: 2, batches: 2 },
      notifications: { deleted: 3, batches: 2 },
      passkey_challenges: { deleted: 2, batches: 2 },
      sign_in_devices: { deleted: 4, batches: 3 },
      // Five rows in batches of two: three statements.
      audit_events: { deleted: 5, batches: 3 },
    });
    for (const [table, { deleted }] of Object.entries(report)) {
      expect(await metric(t, 'retention_deleted_rows_total', { table }), table).toBe(deleted);
    }
    expect(t.logs.join('')).not.toContain('"msg":"job failed"');
  });

  it('run again, deletes nothing more (a second run changes nothing)', async () => {
    await runRetention();
    const line = t.logs.filter((entry) => entry.includes('"msg":"retention done"')).at(-1);
    const report = JSON.parse(line!).deleted as Record<string, { deleted: number }>;
    expect(Object.values(report).map((entry) => entry.deleted)).toEqual([
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    for (const table of Object.keys(TABLES) as Array<keyof typeof TABLES>) {
      expect(await remaining(table, kept[table] ?? [])).toHaveLength(kept[table]?.length ?? 0);
    }
  });

  it('keeps the audit trail forever with AUDIT_RETENTION_DAYS=0', () => {
    const cutoffs = retentionCutoffs(
      {
        retention: { days: 30, auditDays: 0, batchSize: 10, notificationDays: 90 },
        refreshTokenTtl: 3600,
      },
      new Date(),
    );
    expect(cutoffs.audit).toBeNull();
    expect(retentionTargets(cutoffs).map((target) => target.table)).not.toContain('audit_events');
  });
});
