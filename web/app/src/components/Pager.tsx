import { useSearchParams } from "react-router";

export const PAGE_SIZE = 50;

/** Cursor paging kept in the URL (`?after=`), so a page can be shared and the browser's
 * back button goes to the previous page. Returns the `after` to query with. */
export function useCursor(): [string | null, (after: string | null) => void] {
  const [params, setParams] = useSearchParams();
  const after = params.get("after");
  const go = (next: string | null) => {
    const copy = new URLSearchParams(params);
    if (next === null) copy.delete("after");
    else copy.set("after", next);
    setParams(copy);
  };
  return [after, go];
}

/** A page of a connection: what the Pager needs to know of it. */
export interface PagedConnection {
  nodes: readonly unknown[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
}

type PagerProps =
  | { page: PagedConnection; what: string }
  | { shown: number; totalCount: number; endCursor: string | null | undefined; hasNextPage: boolean; what: string };

/** "Showing N of TOTAL", first page and next page. Cursors only go forward; the first page
 * (or the browser's back button) goes back. Give it the connection (`page`), or, where fewer
 * rows are shown than the page holds, the numbers. */
export function Pager(props: PagerProps) {
  const { what } = props;
  const { shown, totalCount, endCursor, hasNextPage } =
    "page" in props
      ? {
          shown: props.page.nodes.length,
          totalCount: props.page.totalCount,
          endCursor: props.page.pageInfo.endCursor,
          hasNextPage: props.page.pageInfo.hasNextPage,
        }
      : props;
  const [after, go] = useCursor();
  return (
    <nav className="pager" aria-label={`Pages of ${what}`}>
      <span aria-live="polite">
        Showing {shown} of {totalCount} {what}
      </span>
      {after ? (
        <button type="button" onClick={() => go(null)}>
          First page
        </button>
      ) : null}
      {hasNextPage && endCursor ? (
        <button type="button" onClick={() => go(endCursor)}>
          Next page
        </button>
      ) : null}
    </nav>
  );
}
