import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { STRONG_PASSWORD, uniqueEmail } from '../helpers/users.js';
import { expectProblem, GENEROUS_LIMITS, outboxRows, post, userRow } from './support.js';

/** POST /auth/register: what is refused, and that a refusal leaves no account and sends no mail. */

let t: TestContext;
beforeAll(async () => {
  t = await createTestApp({ env: GENEROUS_LIMITS });
});
afterAll(() => t.close());

const valid = () => ({
  email: uniqueEmail('err'),
  password: STRONG_PASSWORD,
  fullName: 'Err Or',
  role: 'homeowner',
});

async function expectRefusedWithoutTrace(
  body: Record<string, unknown>,
  code = 'validation_failed',
) {
  const res = await post(t, '/auth/register', body);
  const problem = expectProblem(res, 400, code);
  if (typeof body.email === 'string') {
    expect(await userRow(t, body.email.trim())).toBeUndefined();
    expect(await outboxRows(t, body.email.trim())).toHaveLength(0);
  }
  return problem;
}

describe('POST /auth/register refuses with 400', () => {
  it.each(['email', 'password', 'fullName', 'role'])('a missing %s', async (field) => {
    const body: Record<string, unknown> = valid();
    delete body[field];
    const problem = await expectRefusedWithoutTrace(body);
    expect(problem.errors).toContainEqual({ path: `/body/${field}`, message: 'is required' });
  });

  it.each([
    ['no @', 'not-an-email'],
    ['no domain dot', 'jane@localhost'],
    ['inner spaces', 'ja ne@example.com'],
    ['two @', 'a@b@example.com'],
    ['over 254 characters', `${'a'.repeat(250)}@example.com`],
  ])('an email with %s', async (_label, email) => {
    await expectRefusedWithoutTrace({ ...valid(), email });
  });

  it.each([
    ['admin', 'admin'],
    ['an unknown role', 'superuser'],
    ['a role list', ['homeowner', 'admin']],
  ])('the role %s (admin is granted, never chosen)', async (_label, role) => {
    await expectRefusedWithoutTrace({ ...valid(), role });
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['over 100 characters', 'x'.repeat(101)],
  ])('a fullName that is %s', async (_label, fullName) => {
    await expectRefusedWithoutTrace({ ...valid(), fullName });
  });

  it.each([
    ['roles', ['admin']],
    ['emailVerified', true],
    ['isActive', true],
    ['id', '0190a5c4-0000-7000-8000-000000000000'],
    ['passwordHash', '$2b$04$abcdefghijklmnopqrstuu'],
    ['phone', '+1 555 0100'],
  ])('an unknown field %s (no mass assignment)', async (field, value) => {
    const problem = await expectRefusedWithoutTrace({ ...valid(), [field]: value });
    expect(problem.errors).toContainEqual({
      path: `/body/${field}`,
      message: 'is not an allowed field',
    });
  });

  it.each([
    ['a number as password', { password: 12345678901 }],
    ['an object as email', { email: { $ne: null } }],
    ['null fullName', { fullName: null }],
  ])('a value of the wrong type: %s', async (_label, patch) => {
    await expectRefusedWithoutTrace({ ...valid(), ...patch });
  });
});

describe('POST /auth/register refuses other media', () => {
  it('a form-encoded body is 415 (JSON only on this route)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/register',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(valid()).toString(),
    });
    expectProblem(res, 415, 'unsupported_media_type');
  });

  it('malformed JSON is 400', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/register',
      headers: { 'content-type': 'application/json' },
      payload: '{"email": "a@example.com",',
    });
    expectProblem(res, 400, 'validation_failed');
  });
});
