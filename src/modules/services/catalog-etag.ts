import { digestTag } from '../../kernel/conditional.js';
import { serviceColumns } from './repository.js';

/** What a service's (id, version) decides: every column of its row. */
const ROW_FIELDS = new Set(Object.keys(serviceColumns));

interface CatalogItem {
  id: string;
  version: number;
}

/**
 * The strong ETag of a catalog page, from the rows the page query returned (no second query, and
 * nothing serialised). The page's bytes are decided by its items in order and `nextCursor`:
 * - an item's own columns, by its id and version (every update bumps the version);
 * - what the query joins to it (the provider's `{ id, fullName }`, and any field added later), by
 *   its value: every field of the item that is not a column of its row goes into the digest
 *   as it is, so a renamed provider changes the tag of every page that shows them.
 * A service that joins or leaves the page (created, deactivated, its provider disabled) changes
 * the list of ids. NUL separates the parts: no stored text can hold one.
 */
export function catalogPageTag(page: {
  items: readonly CatalogItem[];
  nextCursor: string | null;
}): string {
  const first = page.items[0];
  if (!first) return digestTag(`empty\0${page.nextCursor ?? ''}`);
  // Every row of a query has the same keys: the joined ones are found once per page.
  const joined = Object.keys(first).filter((key) => !ROW_FIELDS.has(key));
  let parts = page.nextCursor ?? '';
  for (const item of page.items) {
    parts += `\0${item.id}\0${item.version}`;
    for (const key of joined) {
      parts += `\0${JSON.stringify((item as unknown as Record<string, unknown>)[key])}`;
    }
  }
  return digestTag(parts);
}
