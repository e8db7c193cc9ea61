// What an anonymous visitor sees instead of a view that needs to know who they are (issue 12):
// the area's sentence, then how to sign in here — the login link where the server has one,
// the demo personas in the header on a demo server.
import type { ReactNode } from "react";
import { useAuth } from "../auth/AuthContext";

export function SignInNotice({
  children,
  role = "status",
  className,
  code,
}: {
  /** The sentence: what signing in would show. */
  children: ReactNode;
  /** "alert" where the notice answers a refused request. */
  role?: "status" | "alert";
  className?: string;
  /** The refusal's extensions.code, where there was one. */
  code?: string;
}) {
  const { status } = useAuth();
  const here = window.location.pathname + window.location.search;
  return (
    <div className={className ? `notice sign-in-notice ${className}` : "notice sign-in-notice"} role={role} data-code={code}>
      <p>
        {children}{" "}
        {status?.loginEnabled ? (
          <a href={`/auth/login?next=${encodeURIComponent(here)}`}>Sign in</a>
        ) : status?.demoPersonas ? (
          "Choose a demo persona in the header."
        ) : null}
      </p>
    </div>
  );
}
