import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { auditEvents, mailOutbox, notifications, signInDevices } from '../../src/db/schema.js';
import { networkOf } from '../../src/modules/auth/devices.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import type { ReceivedMail } from '../helpers/mailbox.js';
import { enrolMfa, nextCode, passwordStep } from '../helpers/mfa.js';
import { createUser, login } from '../helpers/users.js';
import { registerPasskey, signInOptions, verify, WEBAUTHN_ENV } from '../helpers/webauthn.js';
import { GENEROUS_LIMITS } from './support.js';

/**
 * The new-sign-in notice (issue 18): a sign-in from a user agent and network (/24, /48) not seen
 * on the account in 90 days mails the account, through the outbox, to the real in-process SMTP
 * server; the account's very first sign-in is recorded silently; the user can turn it off.
 */

const t: TestContext = await createTestApp({ env: { ...GENEROUS_LIMITS, ...WEBAUTHN_ENV } });
afterAll(() => t.close());

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/150.0 Safari/537.36';

const from = (userAgent: string, ip: string) => ({
  headers: { 'user-agent': userAgent },
  remoteAddress: ip,
});

async function passwordLogin(email: string, password: string, device: ReturnType<typeof from>) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password },
    ...device,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** The new-sign-in mails queued for an address (sent or not yet). */
const queuedNotices = (email: string) =>
  t.app.db
    .select({ id: mailOutbox.id })
    .from(mailOutbox)
    .where(and(eq(mailOutbox.recipient, email), eq(mailOutbox.template, 'new_sign_in')));

const signInNotices = async (email: string, count: number) => {
  const notices: ReceivedMail[] = [];
  for (let index = 0; index < count; index++) {
    for (;;) {
      const mail = await t.mailbox.next(email);
      if (/new sign-in/i.test(mail.subject)) {
        notices.push(mail);
        break;
      }
    }
  }
  return notices;
};

describe('the network of a sign-in', () => {
  it.each([
    ['203.0.113.77', '203.0.113.0/24'],
    ['::ffff:198.51.100.9', '198.51.100.0/24'],
    ['2001:db8:abcd:12::1', '2001:db8:abcd::/48'],
    ['2001:db8::1', '2001:db8:0::/48'],
    ['::1', '0:0:0::/48'],
    ['garbage', 'unknown'],
  ])('%s is on %s', (ip, network) => {
    expect(networkOf(ip)).toBe(network);
  });
});

describe('the new-sign-in notice', () => {
  it('the first sign-in is silent; the same browser on the same /24 is known; a new one is mailed', async () => {
    const user = await createUser(t);
    await passwordLogin(user.email, user.password, from(FIREFOX, '203.0.113.10'));
    // Another address of the same /24, same browser: the same device.
    await passwordLogin(user.email, user.password, from(FIREFOX, '203.0.113.200'));
    const devices = await t.app.db
      .select()
      .from(signInDevices)
      .where(eq(signInDevices.userId, user.id));
    expect(devices).toHaveLength(1);
    // Neither the agent nor the address is kept in the clear.
    expect(JSON.stringify(devices)).not.toMatch(/Firefox|203\.0\.113/);

    await passwordLogin(user.email, user.password, from(CHROME, '198.51.100.4'));
    const [notice] = await signInNotices(user.email, 1);
    expect(notice?.subject).toBe('New sign-in to your account');
    expect(notice?.text).toContain('How: password.');
    expect(notice?.text).toContain('Network: 198.51.100.0/24.');
    expect(notice?.text).toContain('Chrome/150.0');
    expect(notice?.text).toContain('/forgot-password');
    expect(notice?.text).not.toContain('198.51.100.4');
    // Only that one: the first two sign-ins mailed nothing.
    expect(t.mailbox.to(user.email).filter((m) => /new sign-in/i.test(m.subject))).toHaveLength(1);
    const [row] = await t.app.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.userId, user.id), eq(notifications.kind, 'account.new_sign_in')));
    expect(row?.title).toBe('New sign-in to your account');
  });

  it('a known device unseen for 90 days is new again; seen within them, it is not', async () => {
    const user = await createUser(t);
    await passwordLogin(user.email, user.password, from(FIREFOX, '192.0.2.1'));
    t.clock.advance(89 * 86_400);
    await passwordLogin(user.email, user.password, from(FIREFOX, '192.0.2.1'));
    t.clock.advance(89 * 86_400);
    await passwordLogin(user.email, user.password, from(FIREFOX, '192.0.2.1'));
    t.clock.advance(91 * 86_400);
    await passwordLogin(user.email, user.password, from(FIREFOX, '192.0.2.1'));
    const types = await t.app.db
      .select({ data: auditEvents.data })
      .from(auditEvents)
      .where(and(eq(auditEvents.subjectId, user.id), eq(auditEvents.type, 'auth.login_succeeded')))
      .orderBy(auditEvents.id);
    expect(types.map((row) => row.data.device)).toEqual(['first', 'known', 'known', 'new']);
    expect(await signInNotices(user.email, 1)).toHaveLength(1);
  });

  it('an IPv6 sign-in is judged by its /48', async () => {
    const user = await createUser(t);
    await passwordLogin(user.email, user.password, from(FIREFOX, '2001:db8:1:1::1'));
    await passwordLogin(user.email, user.password, from(FIREFOX, '2001:db8:1:ffff::2'));
    await passwordLogin(user.email, user.password, from(FIREFOX, '2001:db8:2::1'));
    const [notice] = await signInNotices(user.email, 1);
    expect(notice?.text).toContain('Network: 2001:db8:2::/48.');
  });

  it('covers the second step of a two-factor sign-in, and a passkey sign-in', async () => {
    const created = await createUser(t);
    const session = await login(t, created.email, created.password);
    const mfa = await enrolMfa(t, session);
    const challenge = await passwordStep(t, mfa.email, mfa.password);
    const verified = await t.app.inject({
      method: 'POST',
      url: '/auth/mfa/verify',
      payload: { challenge, code: nextCode(t, mfa.secret) },
      ...from(CHROME, '198.51.100.20'),
    });
    expect(verified.statusCode, verified.body).toBe(200);
    const [totp] = await signInNotices(mfa.email, 1);
    expect(totp?.text).toContain('How: password and authenticator code.');

    // A passkey from yet another browser and network.
    t.clock.advance(601);
    const stepped = await t.app.inject({
      method: 'POST',
      url: '/auth/step-up',
      headers: mfa.headers,
      payload: { code: nextCode(t, mfa.secret) },
    });
    const headers = { authorization: `Bearer ${stepped.json().access_token}` };
    const { authenticator } = await registerPasskey(t, { ...mfa, headers });
    const { challengeId, publicKey } = await signInOptions(t);
    const res = await verify(t, challengeId, authenticator.get(publicKey), {
      'user-agent': FIREFOX,
    });
    expect(res.statusCode, res.body).toBe(200);
    const [passkey] = await signInNotices(mfa.email, 1);
    expect(passkey?.text).toContain('How: a passkey.');
  });

  it('can be turned off in the notification settings, the in-app notice stays', async () => {
    const user = await createUser(t);
    const first = await passwordLogin(user.email, user.password, from(FIREFOX, '192.0.2.50'));
    const settings = await t.app.inject({
      method: 'PUT',
      url: '/users/me/notification-settings',
      headers: { authorization: `Bearer ${first.access_token}` },
      payload: { mail: { 'account.new_sign_in': false } },
    });
    expect(settings.statusCode, settings.body).toBe(200);
    expect(settings.json().mail['account.new_sign_in']).toBe(false);
    await passwordLogin(user.email, user.password, from(CHROME, '198.51.100.50'));
    const audits = await t.app.db
      .select({ data: auditEvents.data })
      .from(auditEvents)
      .where(and(eq(auditEvents.subjectId, user.id), eq(auditEvents.type, 'auth.login_succeeded')))
      .orderBy(auditEvents.id);
    expect(audits.at(-1)?.data).toMatchObject({ device: 'new', newDeviceMailed: false });
    expect(await queuedNotices(user.email)).toEqual([]);
    const rows = await t.app.db
      .select()
      .from(notifications)
      .where(and(eq(notifications.userId, user.id), eq(notifications.kind, 'account.new_sign_in')));
    expect(rows).toHaveLength(1);
  });
});
