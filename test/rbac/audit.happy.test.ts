import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createUser, loginAs, type TestUser } from '../helpers/users.js';
import { adminApi, send } from './support.js';

/**
 * Every administrative change leaves an audit event saying who did what to whom, from where and
 * in which request; GET /admin/audit-events reads them back, newest first, in keyset pages.
 */

let t: TestContext;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  admin = await loginAs(t, ['admin']);
});
afterAll(() => t?.close());

interface AuditEvent {
  id: string;
  type: string;
  actorId: string | null;
  subjectId: string | null;
  ip: string | null;
  requestId: string | null;
  data: Record<string, unknown>;
  createdAt: string;
}

const events = async (
  query: string,
): Promise<{ items: AuditEvent[]; nextCursor: string | null }> => {
  const res = await send(t, {
    method: 'GET',
    url: `/admin/audit-events?${query}`,
    headers: admin.headers,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

const requestId = (what: string) => `rbac-${what}-${randomBytes(4).toString('hex')}`;

describe('an administrative change is audited with actor, subject, ip, request id and data', () => {
  it.each([
    ['role.granted', { role: 'service_provider' }],
    ['role.revoked', { role: 'homeowner' }],
    ['user.disabled', {}],
    ['user.enabled', {}],
  ] as const)('%s', async (type, data) => {
    const subject = await createUser(t, ['homeowner'], { isActive: type !== 'user.enabled' });
    const id = requestId(type.replace('.', '-'));
    const res =
      type === 'role.granted'
        ? await adminApi.grant(t, admin, subject.id, 'service_provider', id)
        : type === 'role.revoked'
          ? await adminApi.revoke(t, admin, subject.id, 'homeowner', id)
          : await adminApi.setActive(t, admin, subject.id, type === 'user.enabled', id);
    expect(res.statusCode).toBeLessThan(300);
    expect(res.headers['x-request-id']).toBe(id);

    const { items } = await events(`userId=${subject.id}&type=${type}`);
    expect(items).toEqual([
      {
        id: expect.any(String),
        type,
        actorId: admin.id,
        subjectId: subject.id,
        ip: '127.0.0.1',
        requestId: res.headers['x-request-id'],
        data,
        createdAt: expect.any(String),
      },
    ]);
    expect(new Date(items[0]!.createdAt).toISOString()).toBe(items[0]!.createdAt);
  });

  it('records the generated request id when the client sent none', async () => {
    const subject = await createUser(t, ['homeowner']);
    const res = await adminApi.grant(t, admin, subject.id, 'service_provider');
    const generated = res.headers['x-request-id'];
    expect(generated).toEqual(expect.any(String));
    const { items } = await events(`userId=${subject.id}&type=role.granted`);
    expect(items.map((item) => item.requestId)).toEqual([generated]);
  });
});

describe('GET /admin/audit-events filters', () => {
  let actor: TestUser;
  let first: { id: string };
  let second: { id: string };
  beforeAll(async () => {
    actor = await loginAs(t, ['admin']);
    first = await createUser(t, ['homeowner']);
    second = await createUser(t, ['homeowner']);
    await adminApi.grant(t, actor, first.id, 'service_provider');
    await adminApi.grant(t, actor, second.id, 'service_provider');
  });

  it('userId matches the subject of an event', async () => {
    const { items } = await events(`userId=${first.id}`);
    expect(items.map((item) => [item.type, item.subjectId])).toEqual([['role.granted', first.id]]);
  });

  it('userId matches the actor of an event too', async () => {
    const { items } = await events(`userId=${actor.id}&type=role.granted`);
    expect(items.map((item) => item.subjectId)).toEqual([second.id, first.id]);
    for (const item of items) expect(item.actorId).toBe(actor.id);
  });

  it('without type, gives every event the user took part in, and only those', async () => {
    const { items } = await events(`userId=${actor.id}&limit=100`);
    const types = items.map((item) => item.type);
    expect(types).toContain('role.granted');
    expect(types).toContain('auth.login_succeeded');
    for (const item of items) expect([item.actorId, item.subjectId]).toContain(actor.id);
  });

  it('type alone gives events of that type only, newest first', async () => {
    const { items } = await events('type=role.granted&limit=100');
    expect(items.length).toBeGreaterThanOrEqual(2);
    for (const item of items) expect(item.type).toBe('role.granted');
    const ids = items.map((item) => item.id);
    expect(ids).toEqual([...ids].sort().reverse());
  });

  it('a filter that matches nothing gives an empty last page', async () => {
    expect(await events(`userId=${first.id}&type=user.disabled`)).toEqual({
      items: [],
      nextCursor: null,
    });
  });
});

describe('GET /admin/audit-events pages', () => {
  it('walks a user’s events in keyset pages: newest first, no repeat, no gap', async () => {
    const subject = await createUser(t, ['homeowner']);
    for (let i = 0; i < 5; i++) {
      if (i % 2 === 0) await adminApi.grant(t, admin, subject.id, 'service_provider');
      else await adminApi.revoke(t, admin, subject.id, 'service_provider');
    }
    const all = await events(`userId=${subject.id}&limit=100`);
    expect(all.items.map((item) => item.type)).toEqual([
      'role.granted',
      'role.revoked',
      'role.granted',
      'role.revoked',
      'role.granted',
    ]);

    const walked: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await events(`userId=${subject.id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      walked.push(...page.items.map((item) => item.id));
      sizes.push(page.items.length);
      cursor = page.nextCursor;
    } while (cursor && sizes.length < 10);

    expect(sizes).toEqual([2, 2, 1]);
    expect(walked).toEqual(all.items.map((item) => item.id));
  });
});
