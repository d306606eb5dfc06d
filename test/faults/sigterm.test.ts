import { afterEach, describe, expect, it } from 'vitest';
import { now, pollUntil, within } from '../helpers/net.js';
import { AppProcess, type Exit } from './support/app-process.js';
import { Resources } from './support/cleanup.js';
import { call, LoadLoop, login, type Sample, tally } from './support/http.js';
import { PrivatePostgres } from './support/private-postgres.js';
import { newConnectionOutcome, RawRequest, type RawResponse } from './support/raw-http.js';
import { insertUser } from './support/users.js';

/**
 * SECURITY.md "Faults", SIGTERM under load: stop accepting, finish in-flight requests, close the
 * pool, exit 0 within 10 s.
 */

const resources = new Resources();
afterEach(() => resources.dispose());

interface Outcome {
  newConnections: 'refused' | 'closed' | number;
  closingSeenMs: number;
  responses: RawResponse[];
  finishedMs: number;
  exit: Exit;
  exitMs: number;
  background: Sample[];
  signalled: number;
  profileName: string | undefined;
}

/**
 * Starts PostgreSQL and the app, runs background load, opens three requests whose headers the
 * server has parsed (100 Continue seen) and half of whose bodies it has, sends SIGTERM, waits
 * until new connections are refused or answered 503, then sends the rest of the bodies.
 * `hangUp`: the in-flight clients close their connection once answered; otherwise they keep it
 * open, as a keep-alive client (a reverse proxy's connection pool) does.
 */
async function sigtermWithRequestsInFlight(hangUp: boolean): Promise<Outcome> {
  const pg = resources.add(await PrivatePostgres.create(), (instance) => instance.destroy());
  await pg.start();
  const server = resources.add(await AppProcess.start({ databaseUrl: pg.url }), (process) =>
    process.destroy(),
  );
  const users = await Promise.all([insertUser(pg), insertUser(pg), insertUser(pg)]);
  const [first, second, third] = users as [(typeof users)[0], (typeof users)[0], (typeof users)[0]];
  const token = await login(server.url, third.email, third.password);

  const load = new LoadLoop([
    { label: 'me', request: () => call(server.url, 'GET', '/users/me', { token }) },
    { label: 'me', request: () => call(server.url, 'GET', '/users/me', { token }) },
    { label: 'live', request: () => call(server.url, 'GET', '/health/live') },
  ]);
  load.start();
  try {
    await load.untilCount((s) => s.status === 200, 20, 10_000, 'warm-up');

    const inFlight = await Promise.all([
      RawRequest.open(server.port, 'POST', '/auth/login', {
        email: first.email,
        password: first.password,
      }),
      RawRequest.open(server.port, 'POST', '/auth/login', {
        email: second.email,
        password: second.password,
      }),
      RawRequest.open(
        server.port,
        'PUT',
        '/users/me',
        { fullName: 'Finished After SIGTERM', phone: null },
        { Authorization: `Bearer ${token}` },
      ),
    ]);
    resources.add(inFlight, async (requests) => {
      for (const request of requests) request.destroy();
    });
    for (const request of inFlight) request.sendPart(0.5);

    const signalled = now();
    server.signal('SIGTERM');
    // The server is closing once a new connection is refused or answered 503.
    const newConnections = await pollUntil(
      async () => {
        const result = await newConnectionOutcome(server.port);
        return result === 200 ? undefined : result;
      },
      5_000,
      'new connections refused or answered 503',
      20,
    );
    const closingSeenMs = now() - signalled;

    const responses = await Promise.all(inFlight.map((request) => request.finish()));
    const finishedMs = now() - signalled;
    if (hangUp) for (const request of inFlight) request.destroy();
    await load.stop();
    const exit = await within(server.exited, 15_000, 'the app exiting after SIGTERM');
    const exitMs = now() - signalled;
    const rows = await pg.query<{ full_name: string }>(
      'select full_name from users where id = $1',
      [third.id],
    );
    return {
      newConnections,
      closingSeenMs,
      responses,
      finishedMs,
      exit,
      exitMs,
      background: load.samples,
      signalled,
      profileName: rows[0]?.full_name,
    };
  } finally {
    await load.stop();
  }
}

function report(title: string, outcome: Outcome) {
  const afterSignal = outcome.background.filter((s) => s.end >= outcome.signalled);
  console.log(
    `[fault] ${title}: new connections ${outcome.newConnections} ` +
      `${Math.round(outcome.closingSeenMs)} ms after the signal; in-flight answers ` +
      `${outcome.responses.map((r) => r.status).join(', ')} (connection: ` +
      `${outcome.responses.map((r) => r.headers.connection ?? '-').join(', ')}) ` +
      `${Math.round(outcome.finishedMs)} ms after; exit ${outcome.exit.code ?? outcome.exit.signal} ` +
      `${Math.round(outcome.exitMs)} ms after the signal; background answers after the signal ` +
      `${JSON.stringify(tally(afterSignal))}`,
  );
}

function expectInFlightCompleted(outcome: Outcome) {
  // Refused at connect, accepted into the backlog just as the listener closed and then dropped
  // unanswered ('closed'), or answered 503: all three are new work turned away, never served.
  expect(['refused', 'closed', 503]).toContain(outcome.newConnections);
  expect(outcome.responses.map((r) => r.status)).toEqual([200, 200, 200]);
  const [first, second, third] = outcome.responses.map((r) => JSON.parse(r.body));
  expect(first).toMatchObject({ token_type: 'bearer' });
  expect(second).toMatchObject({ token_type: 'bearer' });
  expect(third).toMatchObject({ fullName: 'Finished After SIGTERM' });
  expect(outcome.profileName).toBe('Finished After SIGTERM');
  // Background requests: answered, 503 while closing, or their connection gone; never a 500.
  for (const sample of outcome.background) {
    expect([0, 200, 503].includes(sample.status), JSON.stringify(sample)).toBe(true);
    if (sample.status === 503) expect(sample.code).toBe('service_unavailable');
  }
}

describe('SIGTERM under load', () => {
  it('finishes half-sent requests, refuses new work and exits 0 within 10 s', async () => {
    const outcome = await sigtermWithRequestsInFlight(true);
    report('SIGTERM, in-flight clients hang up once answered', outcome);
    expectInFlightCompleted(outcome);
    expect(outcome.exit).toEqual({ code: 0, signal: null });
    expect(outcome.exitMs).toBeLessThan(10_000);
  });

  it('a keep-alive client that stays connected after its answer does not hold the exit', async () => {
    const outcome = await sigtermWithRequestsInFlight(false);
    report('SIGTERM, in-flight keep-alive clients stay connected', outcome);
    expectInFlightCompleted(outcome);
    expect(outcome.exit).toEqual({ code: 0, signal: null });
    expect(outcome.exitMs).toBeLessThan(10_000);
  });
});
