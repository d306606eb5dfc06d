import { isIP } from 'node:net';
import { and, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { signInDevices } from '../../db/schema.js';
import { sha256 } from './tokens.js';

/** A device (user agent + network) not seen for this long is new again. */
export const DEVICE_MEMORY_DAYS = 90;

/** The eight 16-bit groups of an IPv6 address, `::` expanded; undefined when it is none. */
function ipv6Groups(address: string): number[] | undefined {
  const [head = '', tail] = address.split('::');
  const part = (text: string) => (text ? text.split(':') : []);
  const groups = [...part(head), ...(tail === undefined ? [] : part(tail))];
  const expanded =
    tail === undefined
      ? part(head)
      : [...part(head), ...Array(8 - groups.length).fill('0'), ...part(tail)];
  if (expanded.length !== 8) return undefined;
  return expanded.map((group) => Number.parseInt(group, 16));
}

/**
 * The network a sign-in came from: the /24 of an IPv4 address, the /48 of an IPv6 one (an
 * IPv4-mapped address is IPv4). Coarse on purpose: a home's or an office's addresses change
 * within it, and the notice names a network, never the address.
 */
export function networkOf(ip: string): string {
  const bare = ip.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  const v4 = mapped?.[1] ?? (isIP(bare) === 4 ? bare : undefined);
  if (v4) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIP(bare) === 6) {
    const groups = ipv6Groups(bare);
    if (groups)
      return `${groups
        .slice(0, 3)
        .map((group) => group.toString(16))
        .join(':')}::/48`;
  }
  return 'unknown';
}

/** What identifies a device: a hash of its user agent and network, neither kept in the clear. */
export const deviceHashOf = (userAgent: string | null, ip: string) =>
  sha256(`${userAgent ?? ''}\n${networkOf(ip)}`);

/**
 * Records a sign-in's device and says what it was: `first` for an account's first recorded
 * sign-in (nothing to compare with: no notice), `known` for one seen within 90 days, `new`
 * otherwise.
 */
export async function recordSignInDevice(
  tx: Db,
  userId: string,
  deviceHash: string,
  now: Date,
): Promise<'first' | 'known' | 'new'> {
  const since = new Date(now.getTime() - DEVICE_MEMORY_DAYS * 86_400_000);
  const [known] = await tx
    .select({ id: signInDevices.id })
    .from(signInDevices)
    .where(
      and(
        eq(signInDevices.userId, userId),
        eq(signInDevices.deviceHash, deviceHash),
        gt(signInDevices.lastSeenAt, since),
      ),
    );
  const [any] = known
    ? [known]
    : await tx
        .select({ id: signInDevices.id })
        .from(signInDevices)
        .where(eq(signInDevices.userId, userId))
        .limit(1);
  await tx
    .insert(signInDevices)
    .values({ userId, deviceHash, firstSeenAt: now, lastSeenAt: now })
    .onConflictDoUpdate({
      target: [signInDevices.userId, signInDevices.deviceHash],
      set: { lastSeenAt: sql`greatest(${signInDevices.lastSeenAt}, excluded.last_seen_at)` },
    });
  if (known) return 'known';
  return any ? 'new' : 'first';
}
