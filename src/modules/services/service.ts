import type { Db } from '../../db/client.js';
import { notFound } from '../../lib/errors.js';
import { serviceChanges, serviceValues } from './input.js';
import {
  deleteService,
  findService,
  findServiceForUpdate,
  insertService,
  listServices,
  type ServicePageFilter,
  type ServiceRow,
  updateService,
} from './repository.js';
import type { ServiceInput, ServicePatch } from './schemas.js';

const missing = () => notFound('No such service.');
function found<T>(row: T | undefined): T {
  if (!row) throw missing();
  return row;
}

/**
 * A provider's own services, active or not. Every method takes the provider: ownership is part of
 * each query, so another provider's id is the same 404 as an id that exists nowhere.
 */
export class ServicesService {
  constructor(private readonly deps: { db: Db }) {}

  list(providerId: string, filter: ServicePageFilter): Promise<ServiceRow[]> {
    return listServices(this.deps.db, providerId, filter);
  }

  async get(providerId: string, id: string): Promise<ServiceRow> {
    return found(await findService(this.deps.db, providerId, id));
  }

  create(providerId: string, input: ServiceInput): Promise<ServiceRow> {
    return insertService(this.deps.db, providerId, serviceValues(input));
  }

  /** PUT: every field; a price left out becomes null. */
  async replace(providerId: string, id: string, input: ServiceInput): Promise<ServiceRow> {
    return found(await updateService(this.deps.db, providerId, id, serviceValues(input)));
  }

  /**
   * PATCH: whether the fields sent make a valid service (the price rule) depends on the stored
   * row, so the row is read locked and written in one transaction: a concurrent change cannot
   * slip in between the check and the write.
   */
  async change(providerId: string, id: string, patch: ServicePatch): Promise<ServiceRow> {
    return found(
      await this.deps.db.transaction(async (tx) => {
        const current = await findServiceForUpdate(tx, providerId, id);
        if (!current) return undefined;
        return updateService(tx, providerId, id, serviceChanges(patch, current));
      }),
    );
  }

  async delete(providerId: string, id: string): Promise<void> {
    if (!(await deleteService(this.deps.db, providerId, id))) throw missing();
  }
}
