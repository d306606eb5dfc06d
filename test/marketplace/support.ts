import { expect } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import { login, loginAs, type TestUser } from '../helpers/users.js';
import { propertyInput } from '../properties/support.js';

/** The marketplace's cast: a homeowner with a property, providers with a service covering it. */

export const POSTAL_CODE = '62701';
const DAY = 86_400_000;

export const dateIn = (t: TestContext, days: number) =>
  new Date(t.clock.now().getTime() + days * DAY).toISOString().slice(0, 10);
export const instantIn = (t: TestContext, hours: number) =>
  new Date(t.clock.now().getTime() + hours * 3_600_000).toISOString();

export interface Homeowner extends TestUser {
  propertyId: string;
}
export interface Provider extends TestUser {
  serviceId: string;
}

export async function homeowner(t: TestContext, postalCode = POSTAL_CODE): Promise<Homeowner> {
  const user = await loginAs(t, ['homeowner']);
  const res = await t.app.inject({
    method: 'POST',
    url: '/homeowners/properties',
    headers: user.headers,
    payload: propertyInput({ postalCode }),
  });
  expect(res.statusCode).toBe(201);
  return { ...user, propertyId: res.json().id };
}

export async function provider(
  t: TestContext,
  options: { category?: string; postalCodes?: readonly string[]; fullName?: string } = {},
): Promise<Provider> {
  const user = await loginAs(t, ['service_provider']);
  const res = await t.app.inject({
    method: 'POST',
    url: '/service-providers/services',
    headers: user.headers,
    payload: {
      title: 'Plumbing repairs',
      description: 'Leaks, taps and pipes.',
      category: options.category ?? 'plumbing',
      pricingModel: 'quote',
      postalCodes: options.postalCodes ?? [POSTAL_CODE],
    },
  });
  expect(res.statusCode).toBe(201);
  return { ...user, serviceId: res.json().id };
}

export function requestInput(
  t: TestContext,
  owner: Homeowner,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    propertyId: owner.propertyId,
    category: 'plumbing',
    title: 'Leaking kitchen tap',
    description: 'The mixer tap drips constantly.',
    earliestDate: dateIn(t, 2),
    latestDate: dateIn(t, 10),
    timeOfDay: 'morning',
    budgetCents: 20000,
    currency: 'USD',
    ...overrides,
  };
}

export async function openRequest(
  t: TestContext,
  owner: Homeowner,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/homeowners/requests',
    headers: owner.headers,
    payload: requestInput(t, owner, overrides),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

export function quoteInput(
  t: TestContext,
  by: Provider,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    serviceId: by.serviceId,
    priceCents: 18000,
    currency: 'USD',
    message: 'New cartridge, one hour.',
    validUntil: instantIn(t, 24 * 5),
    proposedStart: instantIn(t, 24 * 4),
    ...overrides,
  };
}

export async function submitQuote(
  t: TestContext,
  by: Provider,
  requestId: string,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: `/service-providers/requests/${requestId}/quotes`,
    headers: by.headers,
    payload: quoteInput(t, by, overrides),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

export async function accept(t: TestContext, owner: Homeowner, requestId: string, quoteId: string) {
  return t.app.inject({
    method: 'POST',
    url: `/homeowners/requests/${requestId}/quotes/${quoteId}/accept`,
    headers: owner.headers,
  });
}

/** A homeowner, a provider and a scheduled booking between them. */
export async function booked(t: TestContext) {
  const owner = await homeowner(t);
  const pro = await provider(t);
  const requestId = await openRequest(t, owner);
  const quoteId = await submitQuote(t, pro, requestId);
  const res = await accept(t, owner, requestId, quoteId);
  expect(res.statusCode, res.body).toBe(201);
  return { owner, pro, requestId, quoteId, bookingId: res.json().id as string };
}

export async function move(
  t: TestContext,
  user: TestUser,
  bookingId: string,
  verb: string,
  payload?: Record<string, unknown>,
) {
  return t.app.inject({
    method: 'POST',
    url: `/bookings/${bookingId}/${verb}`,
    headers: user.headers,
    ...(payload && { payload }),
  });
}

/** The same user with a new access token, for after the clock moved past the old one's life. */
export async function fresh<T extends TestUser>(t: TestContext, user: T): Promise<T> {
  const again = await login(t, user.email, user.password);
  return { ...user, accessToken: again.accessToken, headers: again.headers };
}
