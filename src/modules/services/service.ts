import type { Db } from '../../db/client.js';
import { preconditionFailed, versionAllowed } from '../../kernel/conditional.js';
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

/**
 * What the other modules tie to a service (the marketplace's live quotes): `run` goes in the
 * transaction that deactivates or deletes it, `afterCommit` once that has committed. The
 * composition root wires it, so this module imports none of them.
 */
export interface ServiceWithdrawal {
  run(tx: Db, serviceId: string): Promise<void>;
  afterCommit(): void;
}

export interface ServicesServiceDeps {
  db: Db;
  withdrawn?: ServiceWithdrawal;
  /** What a new service of an unrated provider ranks at (RATING_PRIOR_MEAN). */
  ratingPriorMean?: number;
}

const missing = () => notFound('No such service.');
/** The versions a conditional write may apply to (If-Match); undefined: unconditional. */
type Expected = readonly number[] | undefined;
function found<T>(row: T | undefined): T {
  if (!row) throw missing();
  return row;
}

/**
 * A provider's own services, active or not. Every method takes the provider: ownership is part of
 * each query, so another provider's id is the same 404 as an id that exists nowhere.
 */
export class ServicesService {
  constructor(private readonly deps: ServicesServiceDeps) {}

  list(providerId: string, filter: ServicePageFilter): Promise<ServiceRow[]> {
    return listServices(this.deps.db, providerId, filter);
  }

  async get(providerId: string, id: string): Promise<ServiceRow> {
    return found(await findService(this.deps.db, providerId, id));
  }

  create(providerId: string, input: ServiceInput): Promise<ServiceRow> {
    return insertService(
      this.deps.db,
      providerId,
      serviceValues(input),
      this.deps.ratingPriorMean ?? 3.5,
    );
  }

  /**
   * PUT: every field; a price left out becomes null. With If-Match, a compare-and-set on the
   * version in the UPDATE itself; when it touches nothing, a read says why (404 or 412).
   */
  async replace(
    providerId: string,
    id: string,
    input: ServiceInput,
    expected?: Expected,
  ): Promise<ServiceRow> {
    const row = await this.deps.db.transaction(async (tx) => {
      const written =
        expected?.length === 0
          ? undefined
          : await updateService(tx, providerId, id, serviceValues(input), expected);
      if (!written && expected && (await findService(tx, providerId, id))) {
        throw preconditionFailed();
      }
      return this.withdrawnIfInactive(tx, written);
    });
    return this.settled(found(row));
  }

  /**
   * PATCH: whether the fields sent make a valid service (the price rule) depends on the stored
   * row, so the row is read locked and written in one transaction: a concurrent change cannot
   * slip in between the check and the write, nor between If-Match's check and the write.
   */
  async change(
    providerId: string,
    id: string,
    patch: ServicePatch,
    expected?: Expected,
  ): Promise<ServiceRow> {
    return this.settled(
      found(
        await this.deps.db.transaction(async (tx) => {
          const current = await findServiceForUpdate(tx, providerId, id);
          if (!current) return undefined;
          if (!versionAllowed(expected, current.version)) throw preconditionFailed();
          return this.withdrawnIfInactive(
            tx,
            await updateService(tx, providerId, id, serviceChanges(patch, current)),
          );
        }),
      ),
    );
  }

  async delete(providerId: string, id: string, expected?: Expected): Promise<void> {
    const deleted = await this.deps.db.transaction(async (tx) => {
      const current = await findServiceForUpdate(tx, providerId, id);
      if (!current) return false;
      if (!versionAllowed(expected, current.version)) throw preconditionFailed();
      // Before the delete: the foreign keys then forget which quotes named the service.
      await this.deps.withdrawn?.run(tx, id);
      return deleteService(tx, providerId, id);
    });
    if (!deleted) throw missing();
    this.settled(undefined);
  }

  private async withdrawnIfInactive(tx: Db, row: ServiceRow | undefined) {
    if (row && !row.isActive) await this.deps.withdrawn?.run(tx, row.id);
    return row;
  }

  private settled<T>(result: T): T {
    this.deps.withdrawn?.afterCommit();
    return result;
  }
}
