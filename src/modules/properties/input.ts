import { badRequest } from '../../lib/errors.js';
import { withTrimmedStrings } from '../../lib/text.js';
import type { PropertyValues } from './repository.js';
import type { PropertyInput, PropertyPatch } from './schemas.js';

/** "Next year" moves with the calendar, so it is checked per request against the app's clock. */
function assertYearBuilt(yearBuilt: number | null | undefined, now: Date): void {
  if (yearBuilt === null || yearBuilt === undefined) return;
  const latest = now.getUTCFullYear() + 1;
  if (yearBuilt > latest) {
    throw badRequest('The request is not valid.', [
      { path: '/body/yearBuilt', message: `must be <= ${latest}` },
    ]);
  }
}

/** POST and PUT write every column: an optional field left out is stored as null. */
export function propertyValues(input: PropertyInput, now: Date): PropertyValues {
  assertYearBuilt(input.yearBuilt, now);
  return {
    addressLine2: null,
    yearBuilt: null,
    floorAreaSqft: null,
    notes: null,
    ...withTrimmedStrings(input),
  };
}

/** PATCH writes only the fields sent. */
export function propertyChanges(patch: PropertyPatch, now: Date): Partial<PropertyValues> {
  assertYearBuilt(patch.yearBuilt, now);
  return withTrimmedStrings(patch);
}
