import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface LastMail {
  file: string;
  to: string;
  subject: string;
  link: string | undefined;
  /** The token alone, as POST /auth/verify-email and /auth/reset-password take it. */
  token: string | undefined;
}

/** Undoes quoted-printable soft line breaks and escapes (=3D for "=", …) of a MIME part. */
function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= or ?B?) in a header. */
function decodeHeader(value: string): string {
  return value.replace(
    /=\?([^?]+)\?([QB])\?([^?]*)\?=/gi,
    (_, _charset, kind: string, data: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
  );
}

function header(message: string, name: string): string {
  const head = message.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name}:`));
  return decodeHeader(line?.slice(name.length + 1).trim() ?? '');
}

/** The newest .eml of the outbox folder (names are time-ordered uuidv7s), or undefined if none. */
export async function lastMail(outbox: string): Promise<LastMail | undefined> {
  let names: string[];
  try {
    names = (await readdir(outbox)).filter((name) => name.endsWith('.eml')).sort();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  const newest = names.at(-1);
  if (!newest) return undefined;
  const file = path.join(outbox, newest);
  const message = await readFile(file, 'utf8');
  const body = decodeQuotedPrintable(message);
  const link = body.match(/https?:\/\/[^\s"'<>]+[?&]token=[A-Za-z0-9_-]+/)?.[0];
  const token = link ? (new URL(link).searchParams.get('token') ?? undefined) : undefined;
  return { file, to: header(message, 'to'), subject: header(message, 'subject'), link, token };
}
