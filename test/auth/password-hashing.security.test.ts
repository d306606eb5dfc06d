import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema.js';
import { PasswordHasher } from '../../src/modules/auth/passwords.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';
import {
  auditRows,
  GENEROUS_LIMITS,
  loginRequest,
  registerRequest,
  registerVerified,
  userRow,
} from './support.js';

/**
 * How passwords are stored: bcrypt at the configured cost (5 in this file, to tell it from the
 * helpers' default of 4), a salt of its own per hash, a pepper, upgraded when the cost rises,
 * and no truncation at bcrypt's 72 bytes.
 */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: { ...GENEROUS_LIMITS, BCRYPT_COST: '5' } });
});
afterAll(() => t.close());

const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const costOf = (hash: string) => Number(BCRYPT.exec(hash)?.[1]);

describe('the stored hash', () => {
  it('is bcrypt at the configured cost, and holds no trace of the password', async () => {
    const email = uniqueEmail('hash');
    await registerRequest(t, { email });
    const row = await userRow(t, email);
    expect(row?.passwordHash).toMatch(BCRYPT);
    expect(costOf(row!.passwordHash)).toBe(5);
    expect(row?.passwordHash).not.toContain(STRONG_PASSWORD);
  });

  it('differs between two users with the same password (a salt per hash)', async () => {
    const first = uniqueEmail('salt');
    const second = uniqueEmail('salt');
    await registerRequest(t, { email: first });
    await registerRequest(t, { email: second });
    const a = (await userRow(t, first))!.passwordHash;
    const b = (await userRow(t, second))!.passwordHash;
    expect(a).not.toBe(b);
    expect(a.slice(7, 29)).not.toBe(b.slice(7, 29));
  });

  it('is peppered: a plain bcrypt of the password does not verify against it', async () => {
    const email = uniqueEmail('pepper');
    await registerRequest(t, { email });
    const stored = (await userRow(t, email))!.passwordHash;
    const otherPepper = new PasswordHasher('another-pepper-of-at-least-32-bytes!!!', 5);
    expect(await otherPepper.verify(STRONG_PASSWORD, stored)).toBe(false);
    const samePepper = new PasswordHasher(t.config.passwordPepper, 5);
    expect(await samePepper.verify(STRONG_PASSWORD, stored)).toBe(true);
  });
});

describe('a hash below the current cost is upgraded at the next login', () => {
  it('cost 4 → 05 after a successful login, and the password still works', async () => {
    const user = await createUser(t);
    const old = await new PasswordHasher(t.config.passwordPepper, 4).hash(user.password);
    await t.app.db.update(users).set({ passwordHash: old }).where(eq(users.id, user.id));
    expect(costOf(old)).toBe(4);

    expect((await loginRequest(t, user.email, user.password)).statusCode).toBe(200);
    const upgraded = (await userRow(t, user.email))!.passwordHash;
    expect(costOf(upgraded)).toBe(5);
    expect(upgraded).not.toBe(old);
    const events = await auditRows(t, 'auth.login_succeeded');
    expect(events.find((event) => event.subjectId === user.id)?.data).toMatchObject({
      rehashed: true,
    });

    expect((await loginRequest(t, user.email, user.password)).statusCode).toBe(200);
    expect((await userRow(t, user.email))!.passwordHash).toBe(upgraded);
  });

  it('a failed login leaves the old hash alone', async () => {
    const user = await createUser(t);
    const old = await new PasswordHasher(t.config.passwordPepper, 4).hash(user.password);
    await t.app.db.update(users).set({ passwordHash: old }).where(eq(users.id, user.id));
    expect((await loginRequest(t, user.email, 'not the password at all')).statusCode).toBe(401);
    expect((await userRow(t, user.email))!.passwordHash).toBe(old);
  });
});

describe('bcrypt’s 72-byte limit does not truncate passwords', () => {
  // 72 bytes of ASCII with a varied prefix, so no blocklist gets in the way.
  const prefix = 'Seventy-two bytes of prefix, then the tail decides: '.padEnd(72, 'z');

  it('two passwords sharing their first 72 bytes are different passwords', async () => {
    expect(Buffer.byteLength(prefix)).toBe(72);
    const email = uniqueEmail('long');
    await registerVerified(t, email, `${prefix}X`);
    expect((await loginRequest(t, email, `${prefix}X`)).statusCode).toBe(200);
    const res = await loginRequest(t, email, `${prefix}Y`);
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('invalid_credentials');
    expect((await loginRequest(t, email, prefix)).statusCode).toBe(401);
  });

  it('also when multi-byte characters carry the password past 72 bytes', async () => {
    const wide = 'ü'.repeat(36); // 72 bytes in UTF-8, 36 characters
    const email = uniqueEmail('wide');
    await registerVerified(t, email, `${wide}-first`);
    expect((await loginRequest(t, email, `${wide}-first`)).statusCode).toBe(200);
    expect((await loginRequest(t, email, `${wide}-other`)).statusCode).toBe(401);
  });
});
