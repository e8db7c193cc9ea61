import { useEffect, useRef, type ReactNode } from "react";
import { useLocation } from "react-router";

/** A view's heading and document title. The heading takes focus when an in-app link opened
 * the view, so a screen reader announces where it led; on the page load itself (location key
 * "default") the browser keeps its focus, so Tab reaches the skip link first. */
export function Page({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const { key } = useLocation();
  useEffect(() => {
    document.title = `${title} · opsgraph`;
    if (key !== "default") heading.current?.focus({ preventScroll: true });
  }, [title, key]);
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-header">
        <h1 id="page-title" ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}
