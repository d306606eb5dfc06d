import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { properties, services, users } from '../../src/db/schema.js';
import { DEMO_PASSWORD, DEMO_USERS } from '../../src/dev/demo-data.js';
import { seedDemoData } from '../../src/dev/seed.js';
import { PasswordHasher } from '../../src/modules/auth/passwords.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { cliStore, runCli } from '../rbac/cli-runner.js';

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
});
afterAll(() => t?.close());

const hasher = () => new PasswordHasher(t.config.passwordPepper, t.config.bcryptCost);

async function totals() {
  const [u] = await t.database.db.select({ n: count() }).from(users);
  const [p] = await t.database.db.select({ n: count() }).from(properties);
  const [s] = await t.database.db.select({ n: count() }).from(services);
  return { users: u?.n, properties: p?.n, services: s?.n };
}

async function login(email: string) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { email, password: DEMO_PASSWORD },
  });
  expect(res.statusCode, `${email}: ${res.body}`).toBe(200);
  return res.json().access_token as string;
}

describe('demo data', () => {
  it('creates every demo account once; a second run adds nothing', async () => {
    const first = await seedDemoData(t.database.db, hasher());
    expect(first.created).toEqual(DEMO_USERS.map((user) => user.email));
    const after = await totals();
    const second = await seedDemoData(t.database.db, hasher());
    expect(second.created).toEqual([]);
    expect(await totals()).toEqual(after);
    expect(second.logins.map((l) => l.email)).toEqual(first.created);
  });

  it('logs in as each demo account, which sees its own properties or services', async () => {
    for (const demo of DEMO_USERS) {
      const token = await login(demo.email);
      const url =
        demo.role === 'homeowner' ? '/homeowners/properties' : '/service-providers/services';
      const res = await t.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.statusCode, res.body).toBe(200);
      const expected = (demo.properties ?? demo.services ?? []).length;
      expect(res.json().items, demo.email).toHaveLength(expected);
    }
  });

  it('fills the catalog across categories and postal codes', async () => {
    const token = await login(DEMO_USERS[0]!.email);
    const categories = new Set(DEMO_USERS.flatMap((u) => u.services ?? []).map((s) => s.category));
    expect(categories.size).toBeGreaterThanOrEqual(5);
    for (const category of categories) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/services?category=${category}`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.json().items.length, category).toBeGreaterThan(0);
    }
    const local = await t.app.inject({
      method: 'GET',
      url: '/services?postalCode=97201',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(local.json().items.length).toBeGreaterThanOrEqual(3);
  });
});

describe('npm run seed', () => {
  it('prints the demo logins, and is idempotent run after run', async () => {
    const store = await cliStore();
    try {
      const first = await runCli(['seed'], { env: store.env });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toContain(`${DEMO_USERS.length} account(s) created, 0 already there`);
      for (const demo of DEMO_USERS)
        expect(first.stdout).toContain(`${demo.email}  ${DEMO_PASSWORD}`);
      const again = await runCli(['seed'], { env: store.env });
      expect(again.stdout).toContain(`0 account(s) created, ${DEMO_USERS.length} already there`);
    } finally {
      await store.drop();
    }
  }, 180_000);

  it('refuses to run in production (the demo password is public)', async () => {
    const store = await cliStore();
    try {
      const run = await runCli(['seed'], { env: { ...store.env, NODE_ENV: 'production' } });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^seed failed: /);
    } finally {
      await store.drop();
    }
  }, 180_000);
});
