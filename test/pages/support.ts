import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { TestContext } from '../helpers/app.js';
import type { ReceivedMail } from '../helpers/mailbox.js';

/**
 * The account pages as a browser without scripts uses them: follow the mail's link, read the
 * form the page shows, post it as application/x-www-form-urlencoded.
 */

/** The environment that makes the mail links lead to the API's own pages. */
export const API_LINKS = { PUBLIC_APP_URL: undefined };

/** The first link to one of the account pages in a mail's text. */
export function linkFrom(mail: ReceivedMail, page: string): URL {
  const match = new RegExp(`https?://\\S+/${page}\\?token=[A-Za-z0-9_-]+`).exec(mail.text);
  if (!match) throw new Error(`no /${page} link in mail "${mail.subject}": ${mail.text}`);
  return new URL(match[0]);
}

/** GET a link on the test app (its path and query; the host is the app's own). */
export function open(t: TestContext, link: URL | string) {
  const url = typeof link === 'string' ? link : `${link.pathname}${link.search}`;
  return t.app.inject({ method: 'GET', url });
}

export interface PageForm {
  /** The form's action resolved against the page's path. */
  action: string;
  method: string;
  hidden: Record<string, string>;
  fields: string[];
}

const attribute = (tag: string, name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];

const decodeEntities = (value: string) =>
  value.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)));

/** The one form of a page. */
export function formOf(res: { body: string }, pagePath: string): PageForm {
  const form = /<form\b[^>]*>/.exec(res.body)?.[0];
  if (!form) throw new Error(`no form in the page: ${res.body}`);
  const hidden: Record<string, string> = {};
  const fields: string[] = [];
  for (const [tag] of res.body.matchAll(/<input\b[^>]*>/g)) {
    const name = attribute(tag, 'name');
    if (!name) continue;
    if (attribute(tag, 'type') === 'hidden')
      hidden[name] = decodeEntities(attribute(tag, 'value') ?? '');
    else fields.push(name);
  }
  const action = new URL(attribute(form, 'action') ?? '', `http://page.test${pagePath}`).pathname;
  return { action, method: (attribute(form, 'method') ?? 'get').toLowerCase(), hidden, fields };
}

/** Posts fields to a page route the way a browser submits a form. */
export function submit(t: TestContext, action: string, fields: Record<string, string>) {
  return t.app.inject({
    method: 'POST',
    url: action,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });
}

/** Asserts an HTML page with the given status, and returns its text. */
export function expectPage(res: LightMyRequestResponse, status: number): string {
  expect(res.statusCode, res.body).toBe(status);
  expect(String(res.headers['content-type'])).toBe('text/html; charset=utf-8');
  expect(res.body).toMatch(/^<!doctype html>/);
  return res.body;
}

/** The page's heading. */
export const headingOf = (html: string) => /<h1>([^<]*)<\/h1>/.exec(html)?.[1];
