import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { services } from '../../src/db/schema.js';
import type { TestContext } from '../helpers/app.js';
import type { TestUser } from '../helpers/users.js';
import type { OwnedResource } from '../owned-resources/resource.js';

export const SERVICES = '/service-providers/services';
export const CATALOG = '/services';

import { NOWHERE } from '../owned-resources/resource.js';

export { NOWHERE };

/** The public `Service` keys, exactly: the tsvector column and anything else stay inside. */
export const SERVICE_KEYS = [
  'category',
  'createdAt',
  'currency',
  'description',
  'id',
  'isActive',
  'postalCodes',
  'priceCents',
  'pricingModel',
  'providerId',
  'title',
  'updatedAt',
];

/** A valid ServiceInput with only the required fields (a fixed price). */
export function serviceInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'Leak repair',
    description: 'Dripping taps and burst pipes fixed the same day.',
    category: 'plumbing',
    pricingModel: 'fixed',
    priceCents: 12_500,
    postalCodes: ['94107'],
    ...overrides,
  };
}

export async function createService(
  t: TestContext,
  provider: TestUser,
  overrides: Record<string, unknown> = {},
) {
  const res = await t.app.inject({
    method: 'POST',
    url: SERVICES,
    headers: provider.headers,
    payload: serviceInput(overrides),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** The row as stored, read straight from the database (not through the API under test). */
export async function serviceRow(t: TestContext, id: string) {
  const [row] = await t.app.db.select().from(services).where(eq(services.id, id));
  return row;
}

const fiftyOne = Array.from({ length: 51 }, (_, i) => String(10_000 + i));

/** [what is wrong, the field, its value]: each must be refused with 400 naming the field. */
export const INVALID_SERVICE_FIELDS: Array<[string, string, unknown]> = [
  ['empty title', 'title', ''],
  ['blank title', 'title', ' \t '],
  ['title over 120 characters', 'title', 't'.repeat(121)],
  ['a line break in the title', 'title', 'Leak\nrepair'],
  ['a NUL byte in the title', 'title', 'Leak\u0000'],
  ['title as a number', 'title', 7],
  ['empty description', 'description', ''],
  ['description over 5000 characters', 'description', 'd'.repeat(5001)],
  ['a control character in the description', 'description', 'bell \u0007'],
  ['unknown category', 'category', 'astrology'],
  ['category in another case', 'category', 'Plumbing'],
  ['unknown pricing model', 'pricingModel', 'free'],
  ['negative price', 'priceCents', -1],
  ['fractional price', 'priceCents', 10.5],
  ['price over the maximum', 'priceCents', 100_000_001],
  ['price as a string', 'priceCents', '1000'],
  ['lower-case currency', 'currency', 'usd'],
  ['unknown currency', 'currency', 'ABC'],
  ['gold is not a currency here', 'currency', 'XAU'],
  ['the testing code', 'currency', 'XTS'],
  ['a withdrawn currency', 'currency', 'HRK'],
  ['empty currency', 'currency', ''],
  ['null currency', 'currency', null],
  ['no postal codes', 'postalCodes', []],
  ['51 postal codes', 'postalCodes', fiftyOne],
  ['the same postal code twice', 'postalCodes', ['94107', '94107']],
  ['postal codes as a string', 'postalCodes', '94107'],
  ['a null postal code', 'postalCodes', null],
  ['isActive as a string', 'isActive', 'yes'],
  ['isActive as a number', 'isActive', 1],
  ['null isActive', 'isActive', null],
  ['id in the body', 'id', NOWHERE],
  ['providerId in the body', 'providerId', NOWHERE],
  ['createdAt in the body', 'createdAt', '2020-01-01T00:00:00Z'],
  ['the search document in the body', 'search', "'leak':1"],
  ['an unknown field', 'featured', true],
];

export const REQUIRED_SERVICE_FIELDS = [
  'title',
  'description',
  'category',
  'pricingModel',
  'postalCodes',
];

/** Services as the shared owned-resource suites see them. */
export const SERVICE: OwnedResource = {
  noun: 'service',
  path: SERVICES,
  ownerRole: 'service_provider',
  ownerLabel: 'provider',
  outsiderRole: 'homeowner',
  outsiderLabel: 'homeowner',
  ownerField: 'providerId',
  keys: SERVICE_KEYS,
  input: serviceInput,
  fullInput: serviceInput({
    category: 'hvac',
    pricingModel: 'hourly',
    priceCents: 0,
    currency: 'EUR',
    postalCodes: ['75001', '75002'],
    isActive: false,
  }),
  createdDefaults: { currency: 'USD', isActive: true },
  replacement: serviceInput({ title: 'Taken over', priceCents: 1 }),
  change: { priceCents: 1, isActive: false },
  invalidFields: INVALID_SERVICE_FIELDS,
  required: REQUIRED_SERVICE_FIELDS,
  // The full-text search document is the database's own.
  internalFields: [['search', "'free':1"]],
  row: serviceRow,
  rows: (t, ownerId) =>
    ownerId === undefined
      ? t.app.db.select().from(services)
      : t.app.db.select().from(services).where(eq(services.providerId, ownerId)),
};
