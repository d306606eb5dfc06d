import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { properties } from '../../src/db/schema.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { loginAs, STRONG_PASSWORD, type TestUser } from '../helpers/users.js';
import {
  createProperty,
  PROPERTIES,
  PROPERTY_KEYS,
  propertyInput,
  propertyRow,
  walkPages,
} from './support.js';

let t: TestContext;
let owner: TestUser;
beforeAll(async () => {
  t = await createTestApp({ noSmtp: true });
  owner = await loginAs(t, ['homeowner']);
});
afterAll(() => t?.close());

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const FULL = {
  name: 'City flat',
  addressLine1: '10 Downing Street',
  addressLine2: 'Flat 2',
  city: 'London',
  region: 'Greater London',
  postalCode: 'SW1A 2AA',
  country: 'GB',
  propertyType: 'apartment',
  yearBuilt: 1735,
  floorAreaSqft: 950,
  notes: 'Gate code 1234.\nKey under the mat.',
};

describe('POST /homeowners/properties', () => {
  it('creates a property owned by the caller: 201, Location, the Property', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: PROPERTIES,
      headers: owner.headers,
      payload: propertyInput(),
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(res.headers.location).toBe(`${PROPERTIES}/${body.id}`);
    expect(Object.keys(body).sort()).toEqual(PROPERTY_KEYS);
    expect(body).toMatchObject({
      ...propertyInput(),
      ownerId: owner.id,
      addressLine2: null,
      yearBuilt: null,
      floorAreaSqft: null,
      notes: null,
    });
    expect(body.createdAt).toMatch(ISO);
    expect(body.updatedAt).toMatch(ISO);
    const row = await propertyRow(t, body.id);
    expect(row).toMatchObject({ ownerId: owner.id, name: 'Lake house', country: 'US' });
  });

  it('stores every optional field when given', async () => {
    const body = await createProperty(t, owner, FULL);
    expect(body).toMatchObject(FULL);
  });

  it('trims what a person typed', async () => {
    const body = await createProperty(t, owner, {
      name: '  Beach hut ',
      addressLine1: '\t2 Shore Road ',
      addressLine2: ' Unit B ',
      city: ' Brighton ',
      region: ' East Sussex ',
      postalCode: ' BN1 1AA ',
      notes: '  bring a towel \n',
    });
    expect(body).toMatchObject({
      name: 'Beach hut',
      addressLine1: '2 Shore Road',
      addressLine2: 'Unit B',
      city: 'Brighton',
      region: 'East Sussex',
      postalCode: 'BN1 1AA',
      notes: 'bring a towel',
    });
  });

  it('accepts every property type, and unicode text', async () => {
    for (const propertyType of [
      'single_family',
      'condo',
      'townhouse',
      'apartment',
      'multi_family',
      'other',
    ]) {
      const body = await createProperty(t, owner, { propertyType, name: 'Maison Nöël 家 🏡' });
      expect(body).toMatchObject({ propertyType, name: 'Maison Nöël 家 🏡' });
    }
  });

  it('accepts the year bounds: 1600 and next year by the app clock', async () => {
    const nextYear = t.clock.now().getUTCFullYear() + 1;
    expect((await createProperty(t, owner, { yearBuilt: 1600 })).yearBuilt).toBe(1600);
    expect((await createProperty(t, owner, { yearBuilt: nextYear })).yearBuilt).toBe(nextYear);
  });
});

describe('GET /homeowners/properties/{id}', () => {
  it('returns the owner’s property as created', async () => {
    const created = await createProperty(t, owner, FULL);
    const res = await t.app.inject({
      method: 'GET',
      url: `${PROPERTIES}/${created.id}`,
      headers: owner.headers,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(created);
  });
});

describe('PUT /homeowners/properties/{id}', () => {
  it('replaces every field; optional fields left out become null', async () => {
    const created = await createProperty(t, owner, FULL);
    const replacement = propertyInput({ name: ' Renamed ', country: 'CA', propertyType: 'condo' });
    const res = await t.app.inject({
      method: 'PUT',
      url: `${PROPERTIES}/${created.id}`,
      headers: owner.headers,
      payload: replacement,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      ...replacement,
      name: 'Renamed',
      id: created.id,
      ownerId: owner.id,
      addressLine2: null,
      yearBuilt: null,
      floorAreaSqft: null,
      notes: null,
      createdAt: created.createdAt,
    });
    expect(await propertyRow(t, created.id)).toMatchObject({ name: 'Renamed', notes: null });
  });
});

describe('PATCH /homeowners/properties/{id}', () => {
  it('changes only the fields sent', async () => {
    const created = await createProperty(t, owner, FULL);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `${PROPERTIES}/${created.id}`,
      headers: owner.headers,
      payload: { city: ' Manchester ', floorAreaSqft: 1200 },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ ...FULL, city: 'Manchester', floorAreaSqft: 1200 });
  });

  it('clears the optional fields with null', async () => {
    const created = await createProperty(t, owner, FULL);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `${PROPERTIES}/${created.id}`,
      headers: owner.headers,
      payload: { addressLine2: null, yearBuilt: null, floorAreaSqft: null, notes: null },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      name: FULL.name,
      addressLine2: null,
      yearBuilt: null,
      floorAreaSqft: null,
      notes: null,
    });
    expect(await propertyRow(t, created.id)).toMatchObject({ notes: null, yearBuilt: null });
  });
});

describe('DELETE /homeowners/properties/{id}', () => {
  it('deletes with 204; the property is gone', async () => {
    const created = await createProperty(t, owner);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `${PROPERTIES}/${created.id}`,
      headers: owner.headers,
    });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await propertyRow(t, created.id)).toBeUndefined();
    const again = await t.app.inject({
      method: 'GET',
      url: `${PROPERTIES}/${created.id}`,
      headers: owner.headers,
    });
    expect(again.statusCode).toBe(404);
  });
});

describe('GET /homeowners/properties', () => {
  it('lists the caller’s own properties, newest first, 20 by default', async () => {
    const lister = await loginAs(t, ['homeowner']);
    const created = [];
    for (let i = 0; i < 22; i++) created.push(await createProperty(t, lister, { name: `P${i}` }));
    const res = await t.app.inject({ method: 'GET', url: PROPERTIES, headers: lister.headers });
    expect(res.statusCode).toBe(200);
    const page = res.json();
    expect(page.items).toHaveLength(20);
    expect(page.items.map((p: { id: string }) => p.id)).toEqual(
      created
        .map((p) => p.id)
        .reverse()
        .slice(0, 20),
    );
    expect(page.nextCursor).toEqual(expect.any(String));
  });

  it('walks 25 properties in pages of 10 with no repeat or gap, even as new ones arrive', async () => {
    const walker = await loginAs(t, ['homeowner']);
    const before: string[] = [];
    for (let i = 0; i < 25; i++) before.push((await createProperty(t, walker)).id);
    const addedMidWalk: string[] = [];

    const { ids, pageSizes } = await walkPages(
      async (cursor) => {
        const res = await t.app.inject({
          method: 'GET',
          url: PROPERTIES,
          headers: walker.headers,
          query: { limit: '10', ...(cursor && { cursor }) },
        });
        expect(res.statusCode, res.body).toBe(200);
        return res.json();
      },
      async () => {
        addedMidWalk.push((await createProperty(t, walker)).id);
      },
    );

    expect(pageSizes).toEqual([10, 10, 5]);
    expect(new Set(ids).size).toBe(ids.length);
    // Newer items land before the cursor, so the walk serves exactly the 25 it started with.
    expect(ids).toEqual([...before].reverse());
    expect(ids.some((id) => addedMidWalk.includes(id))).toBe(false);
    // A fresh walk sees them all, newest first.
    const fresh = await t.app.inject({
      method: 'GET',
      url: PROPERTIES,
      headers: walker.headers,
      query: { limit: '100' },
    });
    expect(fresh.json().items.map((p: { id: string }) => p.id)).toEqual(
      [...before, ...addedMidWalk].reverse(),
    );
  });

  it('answers an empty page to a homeowner without properties', async () => {
    const newcomer = await loginAs(t, ['homeowner']);
    const res = await t.app.inject({ method: 'GET', url: PROPERTIES, headers: newcomer.headers });
    expect(res.json()).toEqual({ items: [], nextCursor: null });
  });
});

describe('deleting the account', () => {
  it('removes the homeowner’s properties with it', async () => {
    const leaving = await loginAs(t, ['homeowner']);
    const a = await createProperty(t, leaving);
    const b = await createProperty(t, leaving);
    const res = await t.app.inject({
      method: 'DELETE',
      url: '/users/me',
      headers: leaving.headers,
      payload: { password: STRONG_PASSWORD },
    });
    expect(res.statusCode, res.body).toBe(204);
    expect(await propertyRow(t, a.id)).toBeUndefined();
    expect(await propertyRow(t, b.id)).toBeUndefined();
    const left = await t.app.db.select().from(properties).where(eq(properties.ownerId, leaving.id));
    expect(left).toEqual([]);
  });
});

// Last in the file: it moves the shared clock a year on, which expires every token issued before.
describe('the calendar moving on', () => {
  // The schema states the bound (issue 13: a client must know it), so it is next year as of the
  // process start; the handler checks it again against the request's clock, never more leniently.
  it('accepts next year and refuses the one after, on the schema and against the clock', async () => {
    const nextYear = new Date().getUTCFullYear() + 1;
    const body = await createProperty(t, owner, { yearBuilt: nextYear });
    expect(body.yearBuilt).toBe(nextYear);
    const refused = await t.app.inject({
      method: 'POST',
      url: PROPERTIES,
      headers: owner.headers,
      payload: propertyInput({ yearBuilt: nextYear + 1 }),
    });
    expect(refused.statusCode).toBe(400);
    t.clock.advance(-366 * 24 * 3600);
    const earlier = await loginAs(t, ['homeowner']);
    const stale = await t.app.inject({
      method: 'POST',
      url: PROPERTIES,
      headers: earlier.headers,
      payload: propertyInput({ yearBuilt: nextYear }),
    });
    expect(stale.statusCode, 'a clock a year behind refuses what the schema allows').toBe(400);
  });
});
