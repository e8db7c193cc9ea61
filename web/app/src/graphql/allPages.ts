// Following a connection's cursor to its end (issue 12): for the lists a page needs whole
// (a picker's choices, the map's sites), where the Pager's one page at a time is not enough.

export interface PageOf<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

/** Asks `fetchPage` for the first page, then for the page after each `endCursor` until one
 * says it is the last (or `maxPages`, a guard against a server that never says so). Its
 * errors reject; `found` then holds the nodes of the pages before. */
export async function fetchAllPages<T>(
  fetchPage: (after: string | null) => Promise<PageOf<T>>,
  { maxPages = 1000, found = [] }: { maxPages?: number; found?: T[] } = {},
): Promise<T[]> {
  let after: string | null = null;
  for (let n = 0; n < maxPages; n++) {
    const page = await fetchPage(after);
    found.push(...page.nodes);
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) break;
    after = page.pageInfo.endCursor;
  }
  return found;
}
