// The recomputation form's values and the API input they make (pure, for vitest).
import type { CreateRecomputationInput } from "../../gql/graphql";
import { splitList } from "../topology/filters";

export interface RecomputationDraft {
  report: string;
  reason: string;
  requesterName: string;
  requesterEmail: string;
  /** `datetime-local` values, read as UTC ("2026-12-01T06:00"). */
  startTime: string;
  endTime: string;
  /** Site short names, comma-separated. */
  exclude: string;
}

export const EMPTY_RECOMPUTATION: RecomputationDraft = {
  report: "",
  reason: "",
  requesterName: "",
  requesterEmail: "",
  startTime: "",
  endTime: "",
  exclude: "",
};

/** "2026-12-01T06:00" (UTC) -> "2026-12-01T06:00:00Z"; empty stays empty (the server names
 * the field). */
export function utcMoment(value: string): string {
  if (value === "") return "";
  return value.length === 16 ? `${value}:00Z` : `${value}Z`;
}

export function recomputationInput(draft: RecomputationDraft): CreateRecomputationInput {
  return {
    report: draft.report,
    reason: draft.reason.trim(),
    requesterName: draft.requesterName.trim(),
    requesterEmail: draft.requesterEmail.trim(),
    startTime: utcMoment(draft.startTime),
    endTime: utcMoment(draft.endTime),
    exclude: splitList(draft.exclude),
  };
}

/** "2026-12-01 06:00–2026-12-02 18:00 UTC" */
export function periodOf(start: string, end: string): string {
  const short = (moment: string) => new Date(moment).toISOString().slice(0, 16).replace("T", " ");
  return `${short(start)}–${short(end)} UTC`;
}
