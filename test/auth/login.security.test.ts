import { readdirSync, readFileSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder } from '../../src/db/client.js';
import { userRoles } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { sendForm } from '../helpers/raw.js';
import { createUser, uniqueEmail } from '../helpers/users.js';
import { bodyWithoutRequestId, GENEROUS_LIMITS, loginRequest } from './support.js';

/**
 * Login reveals nothing about which emails have accounts, and nothing about an account's state
 * to someone without its password. Timing parity (a dummy bcrypt for unknown emails) is a
 * benchmark-style check and lives outside this suite.
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

describe('no account enumeration through POST /auth/login', () => {
  it('unknown email and wrong password: same status, headers of note and body, byte for byte', async () => {
    const user = await createUser(t);
    const disabled = await createUser(t, ['homeowner'], { isActive: false });
    const unverified = await createUser(t, ['homeowner'], { emailVerified: false });

    const answers = [
      await loginRequest(t, uniqueEmail('ghost'), 'some wrong password'),
      await loginRequest(t, user.email, 'some wrong password'),
      await loginRequest(t, disabled.email, 'some wrong password'),
      await loginRequest(t, unverified.email, 'some wrong password'),
    ];
    for (const res of answers) expect(res.statusCode).toBe(401);
    const [reference, ...others] = answers;
    for (const res of others) {
      expect(bodyWithoutRequestId(res)).toBe(bodyWithoutRequestId(reference!));
      expect(res.headers['content-type']).toBe(reference!.headers['content-type']);
      expect(res.headers['www-authenticate']).toBe(reference!.headers['www-authenticate']);
    }
    expect(reference!.json().code).toBe('invalid_credentials');
  });

  it('the same through the OAuth2 form', async () => {
    const user = await createUser(t);
    const form = (username: string) =>
      sendForm(t.app, '/auth/login', { username, password: 'some wrong password' });
    const unknown = await form(uniqueEmail('ghost'));
    const wrong = await form(user.email);
    expect(unknown.statusCode).toBe(401);
    expect(bodyWithoutRequestId(unknown)).toBe(bodyWithoutRequestId(wrong));
  });
});

describe('no default credentials', () => {
  it('the migrations create no account and ship no password hash', () => {
    for (const file of readdirSync(migrationsFolder).filter((name) => name.endsWith('.sql'))) {
      const text = readFileSync(`${migrationsFolder}/${file}`, 'utf8');
      expect(text, file).not.toMatch(/insert\s+into\s+"?users"?/i);
      expect(text, file).not.toMatch(/\$2[aby]?\$\d{2}\$/);
    }
  });

  it('a database started without ADMIN_EMAIL holds no admin at all', async () => {
    const admins = await t.app.db.select().from(userRoles).where(eq(userRoles.roleName, 'admin'));
    expect(admins).toEqual([]);
  });

  it.each([
    ['admin@example.com', 'admin'],
    ['admin@example.com', 'admin123'],
    ['admin@example.com', 'password'],
    ['admin@homefront.local', 'changeme'],
    ['root@example.com', 'root'],
    ['administrator@example.com', 'administrator'],
    ['admin@admin.com', 'admin'],
  ])('%s / %s → 401', async (email, password) => {
    const res = await loginRequest(t, email, password);
    expect(res.statusCode).toBe(401);
  });
});
