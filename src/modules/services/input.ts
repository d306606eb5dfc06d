import type { PricingModel } from '../../db/schema.js';
import { badRequest } from '../../lib/errors.js';
import { withTrimmedStrings } from '../../lib/text.js';
import type { ServiceValues } from './repository.js';
import type { ServiceInput, ServicePatch } from './schemas.js';

/** One spelling per postal code, so that a catalog filter matches however it was typed. */
export const normalisePostalCode = (code: string) => code.trim().replace(/\s+/g, ' ').toUpperCase();

const normalisePostalCodes = (codes: string[]) => [...new Set(codes.map(normalisePostalCode))];

/** A fixed or hourly service needs a price; a "quote" one may have none. */
function assertPriced(service: { pricingModel: PricingModel; priceCents?: number | null }): void {
  if (service.pricingModel === 'quote') return;
  if (service.priceCents === null || service.priceCents === undefined) {
    throw badRequest('A price is required unless the pricing model is "quote".', [
      { path: '/body/priceCents', message: 'is required unless pricingModel is "quote"' },
    ]);
  }
}

/** POST and PUT write every column: a price left out is stored as null. */
export function serviceValues(input: ServiceInput): ServiceValues {
  assertPriced(input);
  const { postalCodes, ...rest } = withTrimmedStrings(input);
  return {
    priceCents: null,
    currency: 'USD',
    isActive: true,
    ...rest,
    postalCodes: normalisePostalCodes(postalCodes),
  };
}

/** PATCH writes the fields sent, once the service they produce is known to be valid. */
export function serviceChanges(
  patch: ServicePatch,
  current: ServiceValues,
): Partial<ServiceValues> {
  const changes: Partial<ServiceValues> = withTrimmedStrings(patch);
  if (patch.postalCodes) changes.postalCodes = normalisePostalCodes(patch.postalCodes);
  assertPriced({ ...current, ...changes });
  return changes;
}
