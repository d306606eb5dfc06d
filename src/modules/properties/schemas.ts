import { type Static, Type } from 'typebox';
import { PROPERTY_TYPES } from '../../db/schema.js';
import { PageQueryFields, Timestamp, Uuid } from '../../lib/schemas.js';
import { Line, Nullable, Paragraph, PostalCode } from '../../lib/text.js';
import { COUNTRY_CODES } from './countries.js';

export const YEAR_BUILT_MIN = 1600;
export const FLOOR_AREA_MAX = 10_000_000;

/** Every field a homeowner may set. */
const fields = {
  name: Line(100, 'What the homeowner calls the property'),
  addressLine1: Line(200),
  addressLine2: Nullable(Line(200)),
  city: Line(100),
  region: Line(100, 'State, province or county'),
  postalCode: PostalCode,
  country: Type.Enum(COUNTRY_CODES, {
    description: 'ISO 3166-1 alpha-2 country code, upper case',
    examples: ['US'],
  }),
  propertyType: Type.Enum(PROPERTY_TYPES),
  yearBuilt: Nullable(
    Type.Integer({
      minimum: YEAR_BUILT_MIN,
      // No `maximum`: "next year" moves with the calendar, so the handler checks it against the
      // request's clock. A bound frozen into the schema would put a date into the committed
      // document (and fail `openapi:check` every 1 January) and go stale in a long-running process.
      description: `From ${YEAR_BUILT_MIN} to next year, checked against the current date at each request`,
    }),
  ),
  floorAreaSqft: Nullable(Type.Integer({ minimum: 1, maximum: FLOOR_AREA_MAX })),
  notes: Nullable(Paragraph(2000)),
};

/** POST and PUT: the whole property; an absent optional field is stored as null. */
export const PropertyInput = Type.Object(
  {
    ...fields,
    addressLine2: Type.Optional(fields.addressLine2),
    yearBuilt: Type.Optional(fields.yearBuilt),
    floorAreaSqft: Type.Optional(fields.floorAreaSqft),
    notes: Type.Optional(fields.notes),
  },
  { additionalProperties: false, title: 'PropertyInput' },
);
export type PropertyInput = Static<typeof PropertyInput>;

/** PATCH: any non-empty subset; the optional fields may be cleared with null. */
export const PropertyPatch = Type.Partial(PropertyInput, {
  additionalProperties: false,
  minProperties: 1,
  title: 'PropertyPatch',
});
export type PropertyPatch = Static<typeof PropertyPatch>;

export const Property = Type.Object(
  {
    id: Uuid,
    ownerId: Uuid,
    name: Type.String(),
    addressLine1: Type.String(),
    addressLine2: Nullable(Type.String()),
    city: Type.String(),
    region: Type.String(),
    postalCode: Type.String(),
    country: Type.String({ description: 'ISO 3166-1 alpha-2' }),
    propertyType: Type.Enum(PROPERTY_TYPES),
    yearBuilt: Nullable(Type.Integer()),
    floorAreaSqft: Nullable(Type.Integer()),
    notes: Nullable(Type.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'Property', description: 'A homeowner’s property' },
);

export const PropertyListQuery = Type.Object(PageQueryFields, { additionalProperties: false });
