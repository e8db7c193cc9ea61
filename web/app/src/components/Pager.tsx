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

/** "Showing N of TOTAL", first page and next page. Cursors only go forward; the first page
 * (or the browser's back button) goes back. */
export function Pager({
  shown,
  totalCount,
  endCursor,
  hasNextPage,
  what,
}: {
  shown: number;
  totalCount: number;
  endCursor: string | null | undefined;
  hasNextPage: boolean;
  what: string;
}) {
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
