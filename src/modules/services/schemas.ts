import { type Static, Type } from 'typebox';
import { PRICING_MODELS, SERVICE_CATEGORIES } from '../../db/schema.js';
import { PageQueryFields, Timestamp, Uuid } from '../../lib/schemas.js';
import { Line, Nullable, Paragraph, PostalCode } from '../../lib/text.js';
import { CATALOG_SORTS } from './catalog.js';
import { CURRENCY_CODES } from './currencies.js';

export const PRICE_CENTS_MAX = 100_000_000;
export const POSTAL_CODES_MAX = 50;

const Category = Type.Enum(SERVICE_CATEGORIES);
const PRICE_RULE = 'Required unless `pricingModel` is "quote"';

/** Every field a provider may set, without defaults (a PATCH must not reset what it leaves out). */
const fields = {
  title: Line(120),
  description: Paragraph(5000),
  category: Category,
  pricingModel: Type.Enum(PRICING_MODELS),
  priceCents: Nullable(
    Type.Integer({
      minimum: 0,
      maximum: PRICE_CENTS_MAX,
      description: `Minor units of \`currency\`. ${PRICE_RULE}`,
    }),
  ),
  currency: Type.Enum(CURRENCY_CODES, { description: 'ISO 4217 code, upper case' }),
  postalCodes: Type.Array(PostalCode, {
    minItems: 1,
    maxItems: POSTAL_CODES_MAX,
    uniqueItems: true,
    description: 'Where the service is offered; stored trimmed and upper-cased',
  }),
  isActive: Type.Boolean({ description: 'Inactive services stay out of the catalog' }),
};

/** POST and PUT: the whole service. */
export const ServiceInput = Type.Object(
  {
    ...fields,
    priceCents: Type.Optional(fields.priceCents),
    currency: Type.Optional(
      Type.Enum(CURRENCY_CODES, { default: 'USD', description: 'ISO 4217 code, upper case' }),
    ),
    isActive: Type.Optional(Type.Boolean({ default: true })),
  },
  {
    additionalProperties: false,
    title: 'ServiceInput',
    // The price rule, so that a generated client and a schema validator know it too.
    if: { properties: { pricingModel: { const: 'quote' } } },
    else: { required: ['priceCents'], properties: { priceCents: { type: 'integer' } } },
  },
);
export type ServiceInput = Static<typeof ServiceInput>;

/** PATCH: any non-empty subset; the price rule must hold for the service it produces. */
export const ServicePatch = Type.Partial(Type.Object(fields), {
  additionalProperties: false,
  minProperties: 1,
  title: 'ServicePatch',
});
export type ServicePatch = Static<typeof ServicePatch>;

const serviceProperties = {
  id: Uuid,
  providerId: Uuid,
  title: Type.String(),
  description: Type.String(),
  category: Category,
  pricingModel: Type.Enum(PRICING_MODELS),
  priceCents: Nullable(Type.Integer()),
  currency: Type.String({ description: 'ISO 4217' }),
  postalCodes: Type.Array(Type.String()),
  isActive: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};

export const Service = Type.Object(serviceProperties, {
  title: 'Service',
  description: 'A service a provider offers',
});

export const CatalogService = Type.Object(
  {
    ...serviceProperties,
    provider: Type.Object(
      { id: Uuid, fullName: Type.String() },
      { description: 'Who offers it: a name, never contact details' },
    ),
    rating: Type.Object(
      {
        count: Type.Integer({ minimum: 0 }),
        average: Nullable(Type.Number()),
      },
      {
        title: 'CatalogRating',
        description:
          'The provider’s rating: how many published reviews, their average to two decimals (null without any)',
      },
    ),
  },
  { title: 'CatalogEntry', description: 'An active service in the catalog, with who offers it' },
);

export const ServiceListQuery = Type.Object(PageQueryFields, { additionalProperties: false });

export const CatalogQuery = Type.Object(
  {
    category: Type.Optional(Category),
    postalCode: Type.Optional(PostalCode),
    q: Type.Optional(Line(200, 'Words that must all appear in the title or description')),
    sort: Type.Optional(
      Type.Enum(CATALOG_SORTS, {
        default: 'newest',
        examples: ['newest'],
        description: 'The order; see the operation',
      }),
    ),
    minRating: Type.Optional(
      Type.Number({
        minimum: 1,
        maximum: 5,
        description: 'The provider’s average rating is at least this (1–5)',
      }),
    ),
    ...PageQueryFields,
  },
  { additionalProperties: false },
);
export type CatalogQuery = Static<typeof CatalogQuery>;
