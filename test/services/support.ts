import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { services } from '../../src/db/schema.js';
import type { TestContext } from '../helpers/app.js';
import type { TestUser } from '../helpers/users.js';

export const SERVICES = '/service-providers/services';
export const CATALOG = '/services';
export const NOWHERE = '018f0000-0000-7000-8000-000000000000';

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
