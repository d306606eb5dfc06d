import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { services } from '../../src/db/schema.js';
import type { TestContext } from '../helpers/app.js';
import type { TestUser } from '../helpers/users.js';
import type { OwnedResource } from '../owned-resources/resource.js';

export const SERVICES = '/service-providers/services';
export const CATALOG = '/services';
export { NOWHERE } from '../owned-resources/resource.js';

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
  // The full-text search document is the database's own.
  internalFields: [['search', "'free':1"]],
  row: serviceRow,
  rows: (t, ownerId) =>
    ownerId === undefined
      ? t.app.db.select().from(services)
      : t.app.db.select().from(services).where(eq(services.providerId, ownerId)),
};
