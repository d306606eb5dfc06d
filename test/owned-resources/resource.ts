import type { TestContext } from '../helpers/app.js';
import type { TestUser } from '../helpers/users.js';
import type { RoleName } from '../rbac/support.js';

/**
 * What the shared suites need to know about a resource a user owns (a property, a service, next a
 * request or a booking): its routes, who owns it, its public shape and how to read its rows. A new
 * owned resource describes itself once and gets the security and happy suites for free.
 */
export interface OwnedResource {
  /** Singular, for test titles: `property`. */
  noun: string;
  /** The collection route: `/homeowners/properties`; items are `${path}/{id}`. */
  path: string;
  /** The role an owner holds, and how titles call its holders. */
  ownerRole: RoleName;
  ownerLabel: string;
  /** A role whose permissions reach neither the reading nor the writing of this resource. */
  outsiderRole: RoleName;
  outsiderLabel: string;
  /** The body field that names the owner: `ownerId`. */
  ownerField: string;
  /** The public keys of the resource, sorted: anything more would be a leak. */
  keys: string[];
  /** A valid input with only the required fields. */
  input(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** A valid input with every optional field too. */
  fullInput: Record<string, unknown>;
  /** What a creation from `input()` answers besides its input: the defaults of optional fields. */
  createdDefaults: Record<string, unknown>;
  /** A valid PUT body and a valid PATCH body that change something. */
  replacement: Record<string, unknown>;
  change: Record<string, unknown>;
  /** [what is wrong, the field, its value]: each refused with 400 naming the field, everywhere. */
  invalidFields: Array<[string, string, unknown]>;
  /** The fields POST and PUT need; PATCH refuses null for them. */
  required: string[];
  /** Body fields the server owns beyond id, owner and timestamps (e.g. a search document). */
  internalFields?: Array<[string, unknown]>;
  /** The row as stored, read straight from the database; undefined when there is none. */
  row(t: TestContext, id: string): Promise<object | undefined>;
  /** Every stored row, or those of one owner. */
  rows(t: TestContext, ownerId?: string): Promise<object[]>;
}

/** An id that exists nowhere. */
export const NOWHERE = '018f0000-0000-7000-8000-000000000000';

/** Keys that must never appear in a resource's answers. */
export const SECRET_KEYS =
  /"(passwordHash|password_hash|password|token|tokenHash|email|phone|search)"/;

/** Creates one through the API as `owner`, expecting 201. */
export async function create(
  t: TestContext,
  resource: OwnedResource,
  owner: TestUser,
  overrides: Record<string, unknown> = {},
): Promise<Record<string, unknown> & { id: string }> {
  const res = await t.app.inject({
    method: 'POST',
    url: resource.path,
    headers: owner.headers,
    payload: resource.input(overrides),
  });
  if (res.statusCode !== 201) throw new Error(`creating a ${resource.noun}: ${res.body}`);
  return res.json();
}
