import { beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import { loginAs, type TestUser } from '../helpers/users.js';
import { ownedResourceHappySuite } from '../owned-resources/happy-suite.js';
import {
  createProperty,
  FULL_PROPERTY,
  PROPERTIES,
  PROPERTY,
  propertyInput,
  propertyRow,
} from './support.js';

// Create, read, delete, list and paging, account deletion: the shared owned-resource suite.
const suite = ownedResourceHappySuite(PROPERTY);

// The property's own rules, on the suite's app.
let t: TestContext;
let owner: TestUser;
beforeAll(() => {
  ({ t, owner } = suite);
});

describe('POST /homeowners/properties', () => {
  it('stores every optional field when given', async () => {
    const body = await createProperty(t, owner, FULL_PROPERTY);
    expect(body).toMatchObject(FULL_PROPERTY);
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

describe('PUT /homeowners/properties/{id}', () => {
  it('replaces every field; optional fields left out become null', async () => {
    const created = await createProperty(t, owner, FULL_PROPERTY);
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
    const created = await createProperty(t, owner, FULL_PROPERTY);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `${PROPERTIES}/${created.id}`,
      headers: owner.headers,
      payload: { city: ' Manchester ', floorAreaSqft: 1200 },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ ...FULL_PROPERTY, city: 'Manchester', floorAreaSqft: 1200 });
  });

  it('clears the optional fields with null', async () => {
    const created = await createProperty(t, owner, FULL_PROPERTY);
    const res = await t.app.inject({
      method: 'PATCH',
      url: `${PROPERTIES}/${created.id}`,
      headers: owner.headers,
      payload: { addressLine2: null, yearBuilt: null, floorAreaSqft: null, notes: null },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      name: FULL_PROPERTY.name,
      addressLine2: null,
      yearBuilt: null,
      floorAreaSqft: null,
      notes: null,
    });
    expect(await propertyRow(t, created.id)).toMatchObject({ notes: null, yearBuilt: null });
  });
});

// Last in the file: it moves the shared clock a year on, which expires every token issued before.
describe('the calendar moving on', () => {
  // "Next year" is checked per request against the app's clock, not frozen into the schema.
  it('accepts next year, refuses the one after, and accepts it once the clock reaches the new year', async () => {
    const nextYear = t.clock.now().getUTCFullYear() + 1;
    const body = await createProperty(t, owner, { yearBuilt: nextYear });
    expect(body.yearBuilt).toBe(nextYear);
    const refused = await t.app.inject({
      method: 'POST',
      url: PROPERTIES,
      headers: owner.headers,
      payload: propertyInput({ yearBuilt: nextYear + 1 }),
    });
    expect(refused.statusCode).toBe(400);
    t.clock.advance(366 * 24 * 3600);
    const later = await loginAs(t, ['homeowner']);
    const accepted = await t.app.inject({
      method: 'POST',
      url: PROPERTIES,
      headers: later.headers,
      payload: propertyInput({ yearBuilt: nextYear + 1 }),
    });
    expect(accepted.statusCode, accepted.body).toBe(201);
  });
});
