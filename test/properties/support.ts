import { eq } from 'drizzle-orm';
import { expect } from 'vitest';
import { properties } from '../../src/db/schema.js';
import type { TestContext } from '../helpers/app.js';
import type { TestUser } from '../helpers/users.js';

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

export interface Page {
  items: Array<{ id: string }>;
  nextCursor: string | null;
}

/**
 * Follows `nextCursor` from the first page to the last, calling `betweenPages` after each page
 * (to change the data mid-walk), and returns the ids in the order they were served.
 */
export async function walkPages(
  fetchPage: (cursor: string | undefined) => Promise<Page>,
  betweenPages: (pageNumber: number) => Promise<void> = async () => {},
): Promise<{ ids: string[]; pageSizes: number[] }> {
  const ids: string[] = [];
  const pageSizes: number[] = [];
  let cursor: string | undefined;
  for (let pageNumber = 1; pageNumber <= 100; pageNumber++) {
    const page = await fetchPage(cursor);
    ids.push(...page.items.map((item) => item.id));
    pageSizes.push(page.items.length);
    if (page.nextCursor === null) return { ids, pageSizes };
    cursor = page.nextCursor;
    await betweenPages(pageNumber);
  }
  throw new Error('pagination did not end');
}

/** Every response body a test saw, for scans such as "no secret key anywhere". */
export const SECRET_KEYS =
  /"(passwordHash|password_hash|password|token|tokenHash|email|phone|search)"/;
