import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { properties } from '../../src/db/schema.js';
import type { TestContext } from '../helpers/app.js';
import type { TestUser } from '../helpers/users.js';
import type { OwnedResource } from '../owned-resources/resource.js';

export const PROPERTIES = '/homeowners/properties';

/** The public `Property` keys, exactly: anything more would be a leak. */
export const PROPERTY_KEYS = [
  'addressLine1',
  'addressLine2',
  'city',
  'country',
  'createdAt',
  'floorAreaSqft',
  'id',
  'name',
  'notes',
  'ownerId',
  'postalCode',
  'propertyType',
  'region',
  'updatedAt',
  'yearBuilt',
];

/** A valid PropertyInput with only the required fields. */
export function propertyInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Lake house',
    addressLine1: '1 Main Street',
    city: 'Springfield',
    region: 'IL',
    postalCode: '62701',
    country: 'US',
    propertyType: 'single_family',
    ...overrides,
  };
}

export async function createProperty(
  t: TestContext,
  owner: TestUser,
  overrides: Record<string, unknown> = {},
) {
  const res = await t.app.inject({
    method: 'POST',
    url: PROPERTIES,
    headers: owner.headers,
    payload: propertyInput(overrides),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** The row as stored, read straight from the database (not through the API under test). */
export async function propertyRow(t: TestContext, id: string) {
  const [row] = await t.app.db.select().from(properties).where(eq(properties.id, id));
  return row;
}

/** A PropertyInput with every optional field. */
export const FULL_PROPERTY = {
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

export const nextYear = () => new Date().getUTCFullYear() + 1;

/** [what is wrong, the field, its value]: each must be refused with 400 naming the field. */
export const INVALID_PROPERTY_FIELDS: Array<[string, string, unknown]> = [
  ['empty name', 'name', ''],
  ['blank name', 'name', '   '],
  ['name over 100 characters', 'name', 'n'.repeat(101)],
  ['name as a number', 'name', 42],
  ['null name', 'name', null],
  ['a NUL byte in the name', 'name', 'Lake\u0000house'],
  ['a line break in the name', 'name', 'Lake\nhouse'],
  ['empty addressLine1', 'addressLine1', ''],
  ['addressLine1 over 200 characters', 'addressLine1', 'a'.repeat(201)],
  ['blank addressLine2', 'addressLine2', ' '],
  ['addressLine2 over 200 characters', 'addressLine2', 'a'.repeat(201)],
  ['empty city', 'city', ''],
  ['city over 100 characters', 'city', 'c'.repeat(101)],
  ['empty region', 'region', ''],
  ['region as an object', 'region', { name: 'IL' }],
  ['empty postal code', 'postalCode', ''],
  ['postal code of punctuation', 'postalCode', '!!!'],
  ['postal code over 16 characters', 'postalCode', '1'.repeat(17)],
  ['postal code with SQL in it', 'postalCode', "1' or '1'='1"],
  ['lower-case country', 'country', 'us'],
  ['alpha-3 country', 'country', 'USA'],
  ['reserved country code UK', 'country', 'UK'],
  ['user-assigned country code XK', 'country', 'XK'],
  ['unassigned country code ZZ', 'country', 'ZZ'],
  ['empty country', 'country', ''],
  ['unknown property type', 'propertyType', 'castle'],
  ['property type in another case', 'propertyType', 'Condo'],
  ['year before 1600', 'yearBuilt', 1599],
  ['fractional year', 'yearBuilt', 1999.5],
  ['year as a string', 'yearBuilt', '1999'],
  ['year after next year', 'yearBuilt', nextYear() + 1],
  ['year far in the future', 'yearBuilt', 1e15],
  ['zero floor area', 'floorAreaSqft', 0],
  ['negative floor area', 'floorAreaSqft', -10],
  ['fractional floor area', 'floorAreaSqft', 10.5],
  ['floor area over ten million', 'floorAreaSqft', 10_000_001],
  ['floor area as a string', 'floorAreaSqft', '100'],
  ['notes over 2000 characters', 'notes', 'x'.repeat(2001)],
  ['empty notes', 'notes', ''],
  ['a NUL byte in the notes', 'notes', 'a\u0000b'],
  ['id in the body', 'id', '018f0000-0000-7000-8000-000000000000'],
  ['ownerId in the body', 'ownerId', '018f0000-0000-7000-8000-000000000000'],
  ['createdAt in the body', 'createdAt', '2020-01-01T00:00:00Z'],
  ['updatedAt in the body', 'updatedAt', '2020-01-01T00:00:00Z'],
  ['an unknown field', 'isFavourite', true],
];

export const REQUIRED_PROPERTY_FIELDS = [
  'name',
  'addressLine1',
  'city',
  'region',
  'postalCode',
  'country',
  'propertyType',
];

/** Properties as the shared owned-resource suites see them. */
export const PROPERTY: OwnedResource = {
  noun: 'property',
  path: PROPERTIES,
  ownerRole: 'homeowner',
  ownerLabel: 'homeowner',
  outsiderRole: 'service_provider',
  outsiderLabel: 'service provider',
  ownerField: 'ownerId',
  keys: PROPERTY_KEYS,
  input: propertyInput,
  fullInput: FULL_PROPERTY,
  createdDefaults: { addressLine2: null, yearBuilt: null, floorAreaSqft: null, notes: null },
  replacement: propertyInput({ name: 'Taken over' }),
  change: { name: 'Taken over' },
  invalidFields: INVALID_PROPERTY_FIELDS,
  required: REQUIRED_PROPERTY_FIELDS,
  row: propertyRow,
  rows: (t, ownerId) =>
    ownerId === undefined
      ? t.app.db.select().from(properties)
      : t.app.db.select().from(properties).where(eq(properties.ownerId, ownerId)),
};
