import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mailbox, type ReceivedMail, tokenFrom } from '../helpers/mailbox.js';
import { STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';
import { haveChromium, launchChromium } from './chromium.js';
import { E2E_DATABASE, type ServerProcess, startServer } from './server-process.js';

/**
 * Passkeys in a real browser: Debian's Chromium with the DevTools Protocol's virtual
 * authenticator (CTAP2, internal transport, resident keys, user verification). The page is a
 * test fixture served by the test itself (page.route) at the API's own origin, so the origin
 * the browser writes into the client data is one of WEBAUTHN_ORIGINS. It calls
 * navigator.credentials.create() and .get() with the options the API gives, and posts the
 * results back, as a front end would.
 */

const FIXTURE_PATH = '/__test-fixture/passkeys.html';

/** The fixture: two functions on `window`, nothing else. Options and results go through JSON. */
const FIXTURE = `<!doctype html>
<html><head><meta charset="utf-8"><title>passkeys fixture</title></head>
<body><h1>passkeys fixture</h1>
<script>
async function call(path, body, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = 'Bearer ' + token;
  const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
  return { status: res.status, body: await res.json() };
}
window.fixture = {
  async register(token, password, name) {
    const options = await call('/users/me/passkeys/options', { password }, token);
    if (options.status !== 200) return options;
    const credential = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.body.publicKey),
    });
    return call('/users/me/passkeys', { name, credential: credential.toJSON() }, token);
  },
  async signIn() {
    const res = await fetch('/auth/passkey/options', { method: 'POST' });
    const options = await res.json();
    let credential;
    try {
      credential = await navigator.credentials.get({
        publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.publicKey),
        signal: AbortSignal.timeout(15000),
      });
    } catch (error) {
      return { status: 0, error: error.name };
    }
    return call('/auth/passkey/verify', {
      challengeId: options.challengeId,
      credential: credential.toJSON(),
    });
  },
};
</script></body></html>`;

describe.skipIf(!haveChromium())(`passkeys in a real browser (${E2E_DATABASE})`, () => {
  let server: ServerProcess;
  let origin: string;
  let browser: Browser;
  const mailbox = new Mailbox();

  beforeAll(async () => {
    await mailbox.start();
    server = await startServer((port) => ({
      SMTP_URL: mailbox.url,
      WEBAUTHN_RP_ID: 'localhost',
      WEBAUTHN_ORIGINS: `http://localhost:${port}`,
    }));
    origin = `http://localhost:${new URL(server.url).port}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    expect(await server?.stop()).toBe(0);
    await mailbox.stop();
  });

  async function nextMail(email: string, subject: RegExp): Promise<ReceivedMail> {
    for (;;) {
      const mail = await mailbox.next(email);
      if (subject.test(mail.subject)) return mail;
    }
  }

  const api = async (path: string, init: { body?: unknown; token?: string; method?: string }) => {
    const headers: Record<string, string> = {};
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const res = await fetch(`${server.url}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const body = (res.status === 204 ? {} : await res.json()) as Record<string, unknown>;
    return { status: res.status, body };
  };

  /** A verified account, signed in with its password (from Node, not the browser). */
  async function signedUpUser() {
    const email = uniqueEmail('passkey-browser');
    const registered = await api('/auth/register', {
      body: { email, password: STRONG_PASSWORD, fullName: 'Passkey User', role: 'homeowner' },
    });
    expect(registered.status).toBe(202);
    const token = tokenFrom(await nextMail(email, /confirm your email/i));
    expect((await api('/auth/verify-email', { body: { token } })).status).toBe(200);
    const login = await api('/auth/login', { body: { email, password: STRONG_PASSWORD } });
    expect(login.status).toBe(200);
    return { email, accessToken: login.body.access_token as string };
  }

  async function fixturePage(): Promise<Page> {
    const page = await browser.newPage();
    await page.route(`${origin}${FIXTURE_PATH}`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: FIXTURE }),
    );
    await page.goto(`${origin}${FIXTURE_PATH}`);
    return page;
  }

  async function addAuthenticator(cdp: CDPSession): Promise<string> {
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return authenticatorId;
  }

  // (Strings, evaluated in the page: this project's TypeScript has no DOM types.)
  const inPage = <T>(page: Page, call: string) => page.evaluate(call) as Promise<T>;
  type Answer = { status: number; body?: Record<string, unknown>; error?: string };

  it('registers a passkey, signs out, signs in with it naming no one; another authenticator cannot', async () => {
    const user = await signedUpUser();
    const page = await fixturePage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const first = await addAuthenticator(cdp);

    const registered = await inPage<Answer>(
      page,
      `window.fixture.register(${JSON.stringify(user.accessToken)}, ${JSON.stringify(STRONG_PASSWORD)}, 'Chromium virtual authenticator')`,
    );
    expect(registered.status, JSON.stringify(registered)).toBe(201);
    expect(registered.body).toMatchObject({ name: 'Chromium virtual authenticator' });
    // The authenticator holds it as a discoverable credential for this RP.
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: first });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });

    // Sign out: the password session's token stops working.
    expect((await api('/auth/logout', { method: 'POST', token: user.accessToken })).status).toBe(
      204,
    );
    expect((await api('/users/me', { token: user.accessToken })).status).toBe(401);

    const signedIn = await inPage<Answer>(page, 'window.fixture.signIn()');
    expect(signedIn.status, JSON.stringify(signedIn)).toBe(200);
    const accessToken = signedIn.body?.access_token as string;
    const me = await api('/users/me', { token: accessToken });
    expect(me.status).toBe(200);
    expect(me.body?.email).toBe(user.email);
    const [, payload = ''] = accessToken.split('.');
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toMatchObject({
      aal: 2,
      amr: ['hwk'],
    });
    // A browser the account was never used from: the new-sign-in notice.
    const notice = await nextMail(user.email, /new sign-in/i);
    expect(notice.text).toMatch(/a passkey/);
    expect(notice.text).toMatch(/127\.0\.0\.0\/24|::\/48/);

    // The authenticator's counter moved, and the server kept it.
    const { credentials: after } = await cdp.send('WebAuthn.getCredentials', {
      authenticatorId: first,
    });
    expect(after[0]?.signCount).toBeGreaterThan(0);

    // Another authenticator, without the credential, signs in as no one.
    await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: first });
    await addAuthenticator(cdp);
    const stranger = await inPage<Answer>(page, 'window.fixture.signIn()');
    expect(stranger.status).toBe(0);
    expect(['NotAllowedError', 'TimeoutError', 'AbortError']).toContain(stranger.error);
    await page.close();
  });
});
