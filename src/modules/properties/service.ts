import type { Db } from '../../db/client.js';
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
  async replace(ownerId: string, id: string, input: PropertyInput): Promise<PropertyRow> {
    const values = propertyValues(input, this.deps.clock.now());
    return found(await updateProperty(this.deps.db, ownerId, id, values));
  }

  /** PATCH: the fields sent. */
  async change(ownerId: string, id: string, patch: PropertyPatch): Promise<PropertyRow> {
    const changes = propertyChanges(patch, this.deps.clock.now());
    return found(await updateProperty(this.deps.db, ownerId, id, changes));
  }

  async delete(ownerId: string, id: string): Promise<void> {
    if (!(await deleteProperty(this.deps.db, ownerId, id))) throw missing();
  }
}
