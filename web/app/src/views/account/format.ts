// Pure helpers of the account views: times in UTC, the change log's diff as rows, the state of
// a token, and the server's role types grouped by kind of entity.

/** "2026-12-03 17:59 UTC" for an ISO time (what the API sends); "" for null. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** A `datetime-local` input's value, read as UTC, as the API's ISO time with an offset
 * ("2026-12-03T10:00" -> "2026-12-03T10:00:00Z"); null when empty or not a time. */
export function utcInputToIso(value: string): string | null {
  const trimmed = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(trimmed)) return null;
  const iso = trimmed.length === 16 ? `${trimmed}:00Z` : `${trimmed}Z`;
  return Number.isNaN(new Date(iso).getTime()) ? null : iso;
}

/** The other way: an ISO time as a `datetime-local` value in UTC ("" if not a time). */
export function isoToUtcInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString().slice(0, 16);
}

export interface DiffRow {
  field: string;
  before: string;
  after: string;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value === "" ? "(empty)" : value;
  return JSON.stringify(value);
}

/** A change's `changes` ({field: [before, after]}) as table rows, in the order given; a value
 * that is not such a pair is shown as the new value. */
export function diffRows(changes: unknown): DiffRow[] {
  if (changes === null || typeof changes !== "object" || Array.isArray(changes)) return [];
  return Object.entries(changes as Record<string, unknown>).map(([field, pair]) =>
    Array.isArray(pair) && pair.length === 2
      ? { field, before: show(pair[0]), after: show(pair[1]) }
      : { field, before: "—", after: show(pair) },
  );
}

export type TokenState = "live" | "revoked" | "expired";

export function tokenState(
  token: { revokedAt?: string | null; expiresAt?: string | null },
  now: Date = new Date(),
): TokenState {
  if (token.revokedAt) return "revoked";
  if (token.expiresAt && new Date(token.expiresAt).getTime() <= now.getTime()) return "expired";
  return "live";
}

export type EntityKind = "site" | "ngi" | "project" | "service_group";

export const ENTITY_KINDS: { id: EntityKind; label: string }[] = [
  { id: "site", label: "Site" },
  { id: "ngi", label: "NGI" },
  { id: "project", label: "Project" },
  { id: "service_group", label: "Service group" },
];

/** The server's role types (`roleTypes`, from the table `requestRole` checks) grouped by the
 * form's kinds of entity, in the server's order. Which role allows what is the server's policy,
 * never decided here. */
export function roleTypesByKind(types: readonly { name: string; entityKind: string }[]): Record<EntityKind, string[]> {
  const grouped: Record<EntityKind, string[]> = { site: [], ngi: [], project: [], service_group: [] };
  for (const type of types) {
    const kind = type.entityKind.toLowerCase();
    if (kind in grouped) grouped[kind as EntityKind].push(type.name);
  }
  return grouped;
}

export function kindLabel(kind: string): string {
  return ENTITY_KINDS.find((k) => k.id === kind)?.label ?? kind.replace(/_/g, " ");
}
