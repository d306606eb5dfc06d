export interface Page {
  items: Array<{ id: string }>;
  nextCursor: string | null;
}

/**
 * Follows `nextCursor` from the first page to the last, calling `betweenPages` after each page
 * (to change the data mid-walk), and returns the ids in the order they were served.
 */
export async function walkPages(
  fetchPage: (cursor: string | undefined) => Promise<Page>,
  betweenPages: (pageNumber: number) => Promise<void> = async () => {},
): Promise<{ ids: string[]; pageSizes: number[] }> {
  const ids: string[] = [];
  const pageSizes: number[] = [];
  let cursor: string | undefined;
  for (let pageNumber = 1; pageNumber <= 100; pageNumber++) {
    const page = await fetchPage(cursor);
    ids.push(...page.items.map((item) => item.id));
    pageSizes.push(page.items.length);
    if (page.nextCursor === null) return { ids, pageSizes };
    cursor = page.nextCursor;
    await betweenPages(pageNumber);
  }
  throw new Error('pagination did not end');
}
