import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { onPostgres } from '../helpers/databases.js';
import { accept, homeowner, openRequest, provider, submitQuote } from './support.js';

/**
 * A transaction that holds a request's row (a stuck worker, a long admin session) must not hold
 * the homeowner's accept for the whole statement timeout: past DB_LOCK_TIMEOUT_MS the accept
 * answers 503 with Retry-After, changes nothing, and succeeds once the row is free. PostgreSQL
 * only: the embedded database has one connection, so nothing else can hold a row.
 */
describe.skipIf(!onPostgres)('an accept on a row another transaction holds', () => {
  let t: TestContext;
  let holder: pg.Client;
  beforeAll(async () => {
    t = await createTestApp({ noSmtp: true, env: { DB_LOCK_TIMEOUT_MS: '150' } });
    holder = new pg.Client({ connectionString: t.databaseUrl });
    await holder.connect();
  });
  afterAll(async () => {
    await holder?.end();
    await t?.close();
  });

  it('gives 503 service_unavailable with Retry-After after the lock timeout, then books', async () => {
    const owner = await homeowner(t);
    const requestId = await openRequest(t, owner);
    const quoteId = await submitQuote(t, await provider(t), requestId);

    await holder.query('begin');
    await holder.query('select id from job_requests where id = $1 for update', [requestId]);
    const busy = await accept(t, owner, requestId, quoteId);
    expect(busy.statusCode, busy.body).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.json()).toMatchObject({ code: 'service_unavailable', status: 503 });
    expect(t.logs.some((line) => line.includes('database contention'))).toBe(true);

    const still = await holder.query('select state from job_requests where id = $1', [requestId]);
    expect(still.rows[0].state).toBe('open');
    await holder.query('rollback');

    const booked = await accept(t, owner, requestId, quoteId);
    expect(booked.statusCode, booked.body).toBe(201);
  });
});
