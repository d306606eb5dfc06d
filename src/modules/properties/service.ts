import type { Db } from '../../db/client.js';
import { preconditionFailed } from '../../kernel/conditional.js';
import type { Clock } from '../../lib/clock.js';
import { notFound } from '../../lib/errors.js';
import { propertyChanges, propertyValues } from './input.js';
import {
  deleteProperty,
  findProperty,
  insertProperty,
  listProperties,
  type PropertyPageFilter,
  type PropertyRow,
  updateProperty,
} from './repository.js';
import type { PropertyInput, PropertyPatch } from './schemas.js';

const missing = () => notFound('No such property.');
function found<T>(row: T | undefined): T {
  if (!row) throw missing();
  return row;
}

/** The versions a conditional write may apply to (If-Match); undefined: unconditional. */
type Expected = readonly number[] | undefined;

/**
 * A homeowner's properties. Every method takes the owner: ownership is part of each query, so
 * another owner's id is the same 404 as an id that exists nowhere.
 */
export class PropertiesService {
  constructor(private readonly deps: { db: Db; clock: Clock }) {}

  list(ownerId: string, filter: PropertyPageFilter): Promise<PropertyRow[]> {
    return listProperties(this.deps.db, ownerId, filter);
  }

  async get(ownerId: string, id: string): Promise<PropertyRow> {
    return found(await findProperty(this.deps.db, ownerId, id));
  }

  create(ownerId: string, input: PropertyInput): Promise<PropertyRow> {
    return insertProperty(this.deps.db, ownerId, propertyValues(input, this.deps.clock.now()));
  }

  /** PUT: every field; an optional one left out becomes null. */
  async replace(
    ownerId: string,
    id: string,
    input: PropertyInput,
    expected?: Expected,
  ): Promise<PropertyRow> {
    const values = propertyValues(input, this.deps.clock.now());
    return this.written(ownerId, id, expected, () =>
      updateProperty(this.deps.db, ownerId, id, values, expected),
    );
  }

  /** PATCH: the fields sent. */
  async change(
    ownerId: string,
    id: string,
    patch: PropertyPatch,
    expected?: Expected,
  ): Promise<PropertyRow> {
    const changes = propertyChanges(patch, this.deps.clock.now());
    return this.written(ownerId, id, expected, () =>
      updateProperty(this.deps.db, ownerId, id, changes, expected),
    );
  }

  async delete(ownerId: string, id: string, expected?: Expected): Promise<void> {
    await this.written(ownerId, id, expected, async () =>
      (await deleteProperty(this.deps.db, ownerId, id, expected)) ? true : undefined,
    );
  }

  /**
   * Runs a write that is a compare-and-set on the version when `expected` is given (one
   * statement: `where id = … and version = any(…)`). When it touches no row, a read says why: no
   * such property (404) or another version (412). An empty `expected` cannot match: no write.
   */
  private async written<T>(
    ownerId: string,
    id: string,
    expected: Expected,
    write: () => Promise<T | undefined>,
  ): Promise<T> {
    const row = expected?.length === 0 ? undefined : await write();
    if (row) return row;
    if (expected && (await findProperty(this.deps.db, ownerId, id))) throw preconditionFailed();
    throw missing();
  }
}
