import { useMemo } from "react";
import { NavLink } from "react-router";
import { Provider } from "urql";
import { useAuth } from "./auth/AuthContext";
import { Identity } from "./components/Identity";
import { makeClient } from "./graphql/client";
import { AREAS, AppRoutes } from "./routes";

export function App() {
  const { actingAs } = useAuth();
  // a new identity gets a new client, so nothing cached for one person shows for another
  const client = useMemo(() => makeClient(actingAs?.token ?? null), [actingAs?.token]);
  return (
    <Provider value={client}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="top">
        <a className="brand" href="/">
          opsgraph
        </a>
        <nav aria-label="Main">
          <ul>
            {AREAS.flatMap((area) => area.nav).map((link) => (
              <li key={link.to}>
                <NavLink to={link.to} end={link.to === "/"}>
                  {link.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <Identity />
      </header>
      <main id="main" key={actingAs?.key ?? "self"}>
        <AppRoutes />
      </main>
    </Provider>
  );
}
