import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import { PROPERTY_TYPES } from '../src/db/schema.js';
import { PasswordHasher } from '../src/modules/auth/passwords.js';
import { marketplaceSeedStatements } from './lib/marketplace-seed.js';
import type { SeedSize } from './lib/options.js';
import { CATEGORIES, pick, prng, propertyText, serviceText } from './lib/text.js';

/**
 * Seeds the bench database straight through SQL, in batches of unnest() inserts: users with
 * roles, providers with their services, homeowners with their properties. Every user has the same
 * password, hashed once with the app's own PasswordHasher at the production cost.
 */

export const BENCH_PASSWORD = 'bench-correct-horse-battery-staple';
const BATCH = 5_000;
const POSTAL_CODES = Array.from({ length: 300 }, (_, k) => String(10_001 + k * 211));

export interface SeedResult {
  tokenUserEmails: string[];
  /** Providers with the most bookings (and so a feed and a booking list), for the marketplace loads. */
  providerTokenEmails: string[];
  loginUserEmails: string[];
  /** The homeowner with many properties: the first token user. */
  heavyOwnerEmail: string;
  catalogFilter: { category: string; postalCode: string };
  catalogQ: string;
  counts: Record<string, number>;
  seconds: number;
}

const homeownerEmail = (i: number) => `homeowner-${i}@bench.test`;
const providerEmail = (i: number) => `provider-${i}@bench.test`;
const loginEmail = (i: number) => `login-${i}@bench.test`;

async function inBatches(total: number, insert: (from: number, to: number) => Promise<void>) {
  for (let from = 0; from < total; from += BATCH) await insert(from, Math.min(total, from + BATCH));
}

async function insertUsers(client: pg.Client, emails: string[], role: string, hash: string) {
  await inBatches(emails.length, async (from, to) => {
    const slice = emails.slice(from, to);
    const ids = slice.map(() => uuidv7());
    const names = slice.map((email) => `Bench ${email.split('@')[0]}`);
    await client.query(
      `insert into users (id, email, full_name, password_hash, email_verified)
       select id, email, full_name, $4, true from unnest($1::uuid[], $2::text[], $3::text[])
         as t(id, email, full_name)`,
      [ids, slice, names, hash],
    );
    await client.query(
      'insert into user_roles (user_id, role_name) select id, $2 from unnest($1::uuid[]) as t(id)',
      [ids, role],
    );
  });
}

async function idsOf(client: pg.Client, emails: string[]): Promise<string[]> {
  const { rows } = await client.query<{ id: string; email: string }>(
    'select id, email from users where email = any($1::text[])',
    [emails],
  );
  const byEmail = new Map(rows.map((row) => [row.email, row.id]));
  return emails.map((email) => byEmail.get(email)!);
}

async function insertServices(client: pg.Client, providerIds: string[], total: number) {
  const random = prng(42);
  await inBatches(total, async (from, to) => {
    const columns = {
      id: [] as string[],
      provider: [] as string[],
      title: [] as string[],
      description: [] as string[],
      category: [] as string[],
      pricing: [] as string[],
      price: [] as Array<number | null>,
      postal: [] as string[],
      active: [] as boolean[],
    };
    for (let i = from; i < to; i++) {
      const category = pick(random, CATEGORIES);
      const { title, description } = serviceText(random, category);
      const pricing = pick(random, ['fixed', 'hourly', 'quote'] as const);
      const codes = new Set(
        Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(random, POSTAL_CODES)),
      );
      columns.id.push(uuidv7());
      columns.provider.push(providerIds[i % providerIds.length]!);
      columns.title.push(title);
      columns.description.push(description);
      columns.category.push(category);
      columns.pricing.push(pricing);
      columns.price.push(pricing === 'quote' ? null : 2_500 + Math.floor(random() * 50_000));
      columns.postal.push([...codes].join(','));
      columns.active.push(random() > 0.02);
    }
    await client.query(
      `insert into services (id, provider_id, title, description, category, pricing_model,
                             price_cents, currency, postal_codes, is_active)
       select id, provider_id, title, description, category, pricing_model, price_cents, 'USD',
              string_to_array(postal, ','), is_active
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::int[], $8::text[], $9::bool[])
           as t(id, provider_id, title, description, category, pricing_model, price_cents,
                postal, is_active)`,
      Object.values(columns),
    );
  });
}

async function insertProperties(
  client: pg.Client,
  ownerIds: string[],
  total: number,
  heavyOwnerProperties: number,
) {
  const random = prng(7);
  await inBatches(total, async (from, to) => {
    const columns = {
      id: [] as string[],
      owner: [] as string[],
      name: [] as string[],
      line1: [] as string[],
      city: [] as string[],
      region: [] as string[],
      postal: [] as string[],
      type: [] as string[],
      year: [] as Array<number | null>,
      area: [] as Array<number | null>,
    };
    for (let i = from; i < to; i++) {
      // The first owner gets a long list; everybody else shares the rest.
      const owner =
        i < heavyOwnerProperties
          ? ownerIds[0]!
          : ownerIds[1 + ((i - heavyOwnerProperties) % (ownerIds.length - 1))]!;
      const text = propertyText(random, i);
      columns.id.push(uuidv7());
      columns.owner.push(owner);
      columns.name.push(text.name);
      columns.line1.push(text.addressLine1);
      columns.city.push(text.city);
      columns.region.push(text.region);
      columns.postal.push(pick(random, POSTAL_CODES));
      columns.type.push(pick(random, PROPERTY_TYPES));
      columns.year.push(random() < 0.2 ? null : 1900 + Math.floor(random() * 125));
      columns.area.push(random() < 0.2 ? null : 500 + Math.floor(random() * 4_500));
    }
    await client.query(
      `insert into properties (id, owner_id, name, address_line1, city, region, postal_code,
                               country, property_type, year_built, floor_area_sqft)
       select id, owner_id, name, line1, city, region, postal, 'US', property_type, year_built,
              floor_area
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::text[], $8::text[], $9::int[], $10::int[])
           as t(id, owner_id, name, line1, city, region, postal, property_type, year_built,
                floor_area)`,
      Object.values(columns),
    );
  });
}

export async function seed(databaseUrl: string, size: SeedSize, pepper: string) {
  const started = performance.now();
  const hasher = new PasswordHasher(pepper, 12);
  const hash = await hasher.hash(BENCH_PASSWORD);

  const homeowners = Array.from({ length: size.homeowners }, (_, i) => homeownerEmail(i));
  const providers = Array.from({ length: size.providers }, (_, i) => providerEmail(i));
  const loginUsers = Array.from({ length: size.loginUsers }, (_, i) => loginEmail(i));

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await insertUsers(client, homeowners, 'homeowner', hash);
    await insertUsers(client, providers, 'service_provider', hash);
    await insertUsers(client, loginUsers, 'homeowner', hash);
    await insertServices(client, await idsOf(client, providers), size.services);
    await insertProperties(
      client,
      await idsOf(client, homeowners),
      size.properties,
      size.heavyOwnerProperties,
    );
    // The marketplace over them, in the proportions: one request per property.
    await client.query('begin');
    for (const statement of marketplaceSeedStatements({ requests: size.properties }))
      await client.query(statement);
    await client.query('commit');
    // As autovacuum would leave it: statistics current, the GIN pending lists merged.
    await client.query('vacuum (analyze)');
    const { rows } = await client.query<Record<string, number>>(
      `select (select count(*)::int from users) as users,
              (select count(*)::int from services) as services,
              (select count(*)::int from properties) as properties,
              (select count(*)::int from job_requests) as job_requests,
              (select count(*)::int from quotes) as quotes,
              (select count(*)::int from bookings) as bookings`,
    );
    const busiest = await client.query<{ email: string }>(
      `select u.email from bookings b join users u on u.id = b.provider_id
        group by u.email order by count(*) desc, u.email limit $1`,
      [size.tokenUsers],
    );
    return {
      tokenUserEmails: homeowners.slice(0, size.tokenUsers),
      providerTokenEmails: busiest.rows.map((row) => row.email),
      loginUserEmails: loginUsers,
      heavyOwnerEmail: homeowners[0]!,
      catalogFilter: { category: 'plumbing', postalCode: POSTAL_CODES[7]! },
      catalogQ: 'leak repair',
      counts: rows[0] ?? {},
      seconds: (performance.now() - started) / 1000,
    } satisfies SeedResult;
  } finally {
    await client.end();
  }
}
