import { Suspense } from "react";
import { Route, Routes } from "react-router";
import type { Area } from "./areas";
import { Loading } from "./components/QueryState";
import { NotFoundPage } from "./components/NotFoundPage";
import { account } from "./views/account";
import { accounting } from "./views/accounting";
import { downtimes } from "./views/downtimes";
import { messaging } from "./views/messaging";
import { monitoring } from "./views/monitoring";
import { topology } from "./views/topology";

export const AREAS: Area[] = [topology, downtimes, monitoring, accounting, account, messaging];

export function AppRoutes() {
  return (
    <Suspense fallback={<Loading what="page" />}>
      <Routes>
        {AREAS.flatMap((area) => area.routes).map(({ path, page: PageComponent }) =>
          path === "" ? (
            <Route key="home" index element={<PageComponent />} />
          ) : (
            <Route key={path} path={path} element={<PageComponent />} />
          ),
        )}
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </Suspense>
  );
}
