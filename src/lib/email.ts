import { domainToASCII } from 'node:url';

/** RFC 5321's limits: a forward path of 254 octets, a local part of 64. */
export const EMAIL_MAX_LENGTH = 254;
export const EMAIL_LOCAL_MAX_LENGTH = 64;

/**
 * The HTML standard's "valid e-mail address": no quotes, comments, display names, angle
 * brackets, commas or trailing dots, so an address names exactly one mailbox. Linear: the local
 * part is one character class and each domain label is bounded (63) and ends at a dot.
 */
const WHATWG_EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * The one form of an address that accounts, look-ups and every per-email limit use: trimmed,
 * NFKC (a fullwidth `ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ` is `jane@example.com`), lower-cased, the
 * domain in IDNA ASCII (`bücher.de` is `xn--bcher-kva.de`). Undefined when the result is not a
 * plain WHATWG address within the length limits. Idempotent: a canonical address maps to itself.
 */
export function canonicalEmail(raw: string): string | undefined {
  // Lengths first, so no later step ever sees a long string (NFKC can only grow it so much).
  if (raw.length > EMAIL_MAX_LENGTH * 2) return undefined;
  // Refused rather than trimmed away: a line break or NUL is never part of what a person typed.
  if (CONTROL.test(raw)) return undefined;
  const folded = raw.trim().normalize('NFKC').toLowerCase();
  if (folded.length > EMAIL_MAX_LENGTH) return undefined;
  const at = folded.lastIndexOf('@');
  if (at < 1 || at > EMAIL_LOCAL_MAX_LENGTH) return undefined;
  // WHATWG URL's domain to ASCII (UTS #46): punycode, and fails ('') on forbidden code points.
  const domain = domainToASCII(folded.slice(at + 1));
  if (!domain) return undefined;
  const address = `${folded.slice(0, at)}@${domain}`;
  if (address.length > EMAIL_MAX_LENGTH || !WHATWG_EMAIL.test(address)) return undefined;
  return address;
}

export const isEmail = (raw: string) => canonicalEmail(raw) !== undefined;

/**
 * Whether the address names a mailbox on the internet rather than on the mail relay's own host
 * or network: a dotted domain whose last label is not a number (`root@localhost`, `a@127.0.0.1`).
 */
export function isInternetDomain(canonical: string): boolean {
  const domain = canonical.slice(canonical.lastIndexOf('@') + 1);
  const lastLabel = domain.slice(domain.lastIndexOf('.') + 1);
  return domain.includes('.') && !/^[0-9]+$/.test(lastLabel);
}

/**
 * An admin's search for addresses starting with `prefix`, folded as addresses are (NFKC, case,
 * and the domain part in ASCII when it converts), so it finds what the same characters typed in a
 * sign-up would have stored.
 */
export function canonicalEmailPrefix(prefix: string): string {
  const folded = prefix.trim().normalize('NFKC').toLowerCase();
  const at = folded.lastIndexOf('@');
  if (at < 0 || /^[\x20-\x7e]*$/.test(folded.slice(at + 1))) return folded;
  const domain = domainToASCII(folded.slice(at + 1));
  return domain ? `${folded.slice(0, at)}@${domain}` : folded;
}
