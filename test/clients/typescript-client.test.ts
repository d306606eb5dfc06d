import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  bearerAuth,
  createClient,
  type HomefrontClient,
  type Property,
  type PropertyInput,
  type TokenPair,
  type User,
} from '../../clients/typescript/src/index.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { tokenFrom } from '../helpers/mailbox.js';
import { uniqueEmail } from '../helpers/users.js';

/**
 * The generated client (clients/typescript) against a real listening server, over HTTP: the
 * whole account flow a front end goes through. `npm run typecheck` checks this file's types
 * against the generated ones, so a change of the document that breaks a client breaks here.
 */

let t: TestContext;
let client: HomefrontClient;
let tokens: TokenPair | undefined;

beforeAll(async () => {
  t = await createTestApp();
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  client = createClient({ baseUrl: address });
  client.use(bearerAuth(() => tokens?.access_token));
});
afterAll(() => t?.close());

const home: PropertyInput = {
  name: 'Lake house',
  addressLine1: '12 Shore Road',
  city: 'Madison',
  region: 'WI',
  postalCode: '53703',
  country: 'US',
  propertyType: 'single_family',
  yearBuilt: 1962,
};

describe('the typed client, end to end', () => {
  const email = uniqueEmail('client');
  const password = 'a long and unusual passphrase';

  it('registers, verifies from the mail, logs in and reads the account', async () => {
    const registered = await client.POST('/auth/register', {
      body: { email, password, fullName: 'Client User', role: 'homeowner' },
    });
    expect(registered.response.status).toBe(202);

    const token = tokenFrom(await t.mailbox.next(email));
    const verified = await client.POST('/auth/verify-email', { body: { token } });
    expect(verified.response.status, JSON.stringify(verified.error)).toBe(200);

    const login = await client.POST('/auth/login', { body: { email, password } });
    expect(login.response.status).toBe(200);
    tokens = login.data;
    expectTypeOf(login.data).toEqualTypeOf<TokenPair | undefined>();
    expect(tokens?.token_type).toBe('bearer');

    const me = await client.GET('/users/me');
    expectTypeOf(me.data).toEqualTypeOf<User | undefined>();
    expect(me.data).toMatchObject({ email, roles: ['homeowner'], emailVerified: true });
  });

  it('creates, lists, reads, changes and deletes a property', async () => {
    const created = await client.POST('/homeowners/properties', { body: home });
    expect(created.response.status).toBe(201);
    expect(created.response.headers.get('location')).toBe(
      `/homeowners/properties/${created.data?.id}`,
    );
    const id = created.data?.id as string;
    expectTypeOf(created.data).toEqualTypeOf<Property | undefined>();

    const list = await client.GET('/homeowners/properties', { params: { query: { limit: 10 } } });
    expect(list.data?.items.map((item) => item.id)).toEqual([id]);
    expect(list.data?.nextCursor).toBeNull();

    const read = await client.GET('/homeowners/properties/{id}', { params: { path: { id } } });
    expect(read.data).toMatchObject(home);

    const patched = await client.PATCH('/homeowners/properties/{id}', {
      params: { path: { id } },
      body: { notes: 'Boathouse needs paint' },
    });
    expect(patched.data?.notes).toBe('Boathouse needs paint');

    const replaced = await client.PUT('/homeowners/properties/{id}', {
      params: { path: { id } },
      body: { ...home, name: 'The lake house' },
    });
    expect(replaced.data).toMatchObject({ name: 'The lake house', notes: null });

    const removed = await client.DELETE('/homeowners/properties/{id}', {
      params: { path: { id } },
    });
    expect(removed.response.status).toBe(204);
    const gone = await client.GET('/homeowners/properties/{id}', { params: { path: { id } } });
    expect(gone.response.status).toBe(404);
    expect(gone.error?.code).toBe('not_found');
  });

  it('refreshes the tokens, then logs out: the session stops working', async () => {
    const refreshed = await client.POST('/auth/refresh', {
      body: { refresh_token: tokens?.refresh_token as string },
    });
    expect(refreshed.response.status).toBe(200);
    expect(refreshed.data?.refresh_token).not.toBe(tokens?.refresh_token);
    tokens = refreshed.data;

    const out = await client.POST('/auth/logout');
    expect(out.response.status).toBe(204);
    const after = await client.GET('/users/me');
    expect(after.response.status).toBe(401);
    expect(after.response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('reports errors as typed problems', async () => {
    const res = await client.POST('/auth/register', {
      body: { email: 'not-an-email', password, fullName: 'X', role: 'homeowner' },
    });
    expect(res.response.status).toBe(400);
    expect(res.error?.code).toBe('validation_failed');
    const problem = res.error;
    const fields = problem && 'errors' in problem ? problem.errors : undefined;
    expect(fields?.[0]?.path).toBe('/body/email');
  });
});
