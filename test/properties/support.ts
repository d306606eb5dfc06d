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
  row: propertyRow,
  rows: (t, ownerId) =>
    ownerId === undefined
      ? t.app.db.select().from(properties)
      : t.app.db.select().from(properties).where(eq(properties.ownerId, ownerId)),
};
