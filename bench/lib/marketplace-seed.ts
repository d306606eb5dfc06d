/**
 * The marketplace's seed, as SQL over what is already seeded (homeowners' properties, providers'
 * active services): job requests, three quotes on each, and a booking for every other request,
 * in the issue's proportions (100k requests, 300k quotes, 50k bookings at full size). Shared by
 * bench/seed.ts (full size, through pg) and the EXPLAIN tests (a small size, through the app's
 * database), so the plans the tests assert are those of the data the bench measures.
 *
 * Ids are UUID v7 built from the row's creation time (one second apart), as the app's are, so
 * "newest first" is "id desc". States are written directly: 50% booked (the booking's state
 * cycles through every booking state), 40% open with three live quotes, 5% cancelled, 5% expired.
 * The first quote of a request comes from a service that serves it, so every provider's areas have
 * requests; its feed is those it has not quoted on yet (services' ids are random, so which ones differs
 * from seed to seed).
 */

export interface MarketplaceSize {
  requests: number;
}

/** A UUID v7 for the `n`th row of a kind (`kind` 0–15 keeps kinds apart), `ms` its time. */
const uuidv7 = (ms: string, kind: number, n: string) =>
  `(lpad(to_hex((${ms})::bigint), 12, '0') || '7' || '${kind.toString(16)}00' || '8' || lpad(to_hex((${n}) % 4096), 3, '0') || lpad(to_hex(${n}), 12, '0'))::uuid`;

export function marketplaceSeedStatements(size: MarketplaceSize): string[] {
  const requests = Math.floor(size.requests);
  // Created one a second, ending now: the first request is `requests` seconds old.
  const start = `(extract(epoch from now()) * 1000)::bigint - ${requests} * 1000`;
  return [
    `create temporary table seed_properties on commit drop as
       select id, owner_id, postal_code, city, row_number() over (order by id) - 1 as n
         from properties`,
    `create temporary table seed_services on commit drop as
       select id, provider_id, category, postal_codes[1] as postal_code,
              row_number() over (order by id) - 1 as n
         from services where is_active`,
    `insert into job_requests (id, homeowner_id, property_id, category, postal_code, city, title,
                               description, earliest_date, latest_date, time_of_day,
                               budget_cents, currency, state, cancel_reason, expires_at,
                               created_at, updated_at)
     select ${uuidv7(`${start} + g * 1000`, 1, 'g')},
            p.owner_id, p.id, s.category, s.postal_code, p.city,
            'Job ' || g || ': ' || s.category || ' work',
            'Seeded request ' || g || ' for the benchmark and the plan tests.',
            current_date + 2, current_date + 12,
            (array['morning', 'afternoon', 'evening'])[1 + g % 3],
            case when g % 4 = 0 then null else 5000 + (g % 50) * 1000 end,
            case when g % 4 = 0 then null else 'USD' end,
            case when g % 10 < 5 then 'booked' when g % 10 < 9 then 'open'
                 when g % 20 = 9 then 'cancelled' else 'expired' end,
            case when g % 20 = 9 then 'No longer needed.' end,
            now() + interval '14 days',
            to_timestamp((${start} + g * 1000) / 1000.0), to_timestamp((${start} + g * 1000) / 1000.0)
       from generate_series(0, ${requests - 1}) g
       join seed_properties p on p.n = g % (select count(*) from seed_properties)
       join seed_services s on s.n = g % (select count(*) from seed_services)`,
    // Three quotes a request, from three services (the first one serves the request).
    `insert into quotes (id, request_id, provider_id, service_id, price_cents, currency, message,
                         valid_until, proposed_start, state, created_at, updated_at)
     select ${uuidv7(`${start} + r.g * 1000 + 1 + k`, 2, 'r.g * 3 + k')},
            r.id, s.provider_id, s.id, 10000 + ((r.g * 3 + k) % 97) * 250, 'USD',
            'Seeded quote ' || k || ' on request ' || r.g || '.',
            now() + interval '5 days', now() + interval '4 days',
            case r.state when 'open' then 'live' when 'expired' then 'expired'
                         when 'cancelled' then 'withdrawn'
                         else case when k = 0 then 'accepted' else 'declined' end end,
            r.created_at + (k + 1) * interval '1 ms', r.created_at + (k + 1) * interval '1 ms'
       from (select id, state, created_at,
                    row_number() over (order by id) - 1 as g
               from job_requests) r
       cross join generate_series(0, 2) k
       join seed_services s
         on s.n = (r.g + k * 37) % (select count(*) from seed_services)
     on conflict do nothing`,
    `insert into bookings (id, request_id, quote_id, homeowner_id, provider_id, price_cents,
                           currency, proposed_start, state, cancelled_by, cancel_reason,
                           completed_at, dispute_reason, resolution, created_at, updated_at)
     select ${uuidv7(`(extract(epoch from q.created_at) * 1000)::bigint + 1`, 3, 'b.n')},
            q.request_id, q.id, r.homeowner_id, q.provider_id, q.price_cents, q.currency,
            q.proposed_start, b.state,
            case when b.state = 'cancelled' then 'homeowner' end,
            case when b.state = 'cancelled' then 'Plans changed.' end,
            case when b.state in ('completed', 'confirmed', 'disputed', 'resolved') then now() end,
            case when b.state in ('disputed', 'resolved') then 'Not finished.' end,
            case when b.state = 'resolved' then 'Partial refund agreed.' end,
            q.created_at, q.created_at
       from (select id, request_id, provider_id, price_cents, currency, proposed_start,
                    created_at, row_number() over (order by id) - 1 as n
               from quotes where state = 'accepted') q
       join job_requests r on r.id = q.request_id
       cross join lateral (select (array['scheduled', 'in_progress', 'completed', 'confirmed',
                                         'cancelled', 'disputed', 'resolved'])[1 + q.n % 7]
                                  as state, q.n) b`,
  ];
}
