import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema.js';
import { createTestApp } from '../helpers/app.js';
import { testConfig } from '../helpers/config.js';
import { uniqueEmail } from '../helpers/users.js';
import { send } from './support.js';

/** A bootstrap admin misconfigured: a clear message, and no half-made admin. */

describe('bootstrap admin misconfigured', { timeout: 120_000 }, () => {
  it('a common ADMIN_PASSWORD creates no account; the service still starts and says why', async () => {
    const email = uniqueEmail('weak');
    const t = await createTestApp({
      noSmtp: true,
      env: { ADMIN_EMAIL: email, ADMIN_PASSWORD: '123qweasdzxc' },
    });
    try {
      expect(await t.app.db.select().from(users).where(eq(users.email, email))).toEqual([]);
      expect((await send(t, { method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
      const line = t.logs.find((entry) => entry.includes('bootstrap admin not created'));
      expect(line).toBeDefined();
      expect(JSON.parse(line!)).toMatchObject({ variable: 'ADMIN_PASSWORD' });
      expect(line).not.toContain('123qweasdzxc');
    } finally {
      await t.close();
    }
  });

  it.each([
    ['ADMIN_EMAIL without ADMIN_PASSWORD', { ADMIN_EMAIL: 'a@example.com' }, /ADMIN_PASSWORD/],
    [
      'ADMIN_PASSWORD without ADMIN_EMAIL',
      { ADMIN_PASSWORD: 'a long admin password 1234' },
      /ADMIN_EMAIL/,
    ],
    [
      'an ADMIN_PASSWORD under 12 characters',
      { ADMIN_EMAIL: 'a@example.com', ADMIN_PASSWORD: 'short pw' },
      /ADMIN_PASSWORD/,
    ],
    [
      'an ADMIN_EMAIL that is not an address',
      { ADMIN_EMAIL: 'admin', ADMIN_PASSWORD: 'a long admin password 1234' },
      /ADMIN_EMAIL/,
    ],
  ])('refuses to start with %s, naming the variable', (_case, env, variable) => {
    expect(() => testConfig(env)).toThrow(variable);
  });
});
