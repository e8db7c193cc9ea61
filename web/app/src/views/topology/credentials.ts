// What the API credentials page decides by itself: labels, and what a credential's dates say
// (nothing about permissions: the page reads Site.viewerCanManageApiCredentials).
import type { CredentialKind } from "../../gql/graphql";

export const CREDENTIAL_KINDS: { kind: CredentialKind; label: string; hint: string }[] = [
  { kind: "X509", label: "X.509 DN", hint: "a certificate's subject in slash form, e.g. /DC=org/DC=example/CN=robot" },
  { kind: "OIDC_SUBJECT", label: "OIDC subject", hint: "the subject (sub) of the tokens the client presents" },
];

export function kindLabel(kind: CredentialKind): string {
  return CREDENTIAL_KINDS.find((k) => k.kind === kind)?.label ?? kind;
}

export interface CredentialDates {
  lastUsedAt: string | null;
  lastRenewedAt: string;
  unusedFlaggedAt: string | null;
}

/** The credential's state in words: flagged unused (renew it or delete it), never used, or
 * when it was last used. */
export function usageNote(credential: CredentialDates, format: (iso: string) => string): string {
  if (credential.unusedFlaggedAt) return `flagged unused on ${format(credential.unusedFlaggedAt)}: renew or delete it`;
  if (!credential.lastUsedAt) return "never used";
  return `last used ${format(credential.lastUsedAt)}`;
}

/** The fields of an edit that differ from the credential: only these are sent. */
export function changedFields(
  before: { identifier: string; kind: CredentialKind; allowWrite: boolean },
  after: { identifier: string; kind: CredentialKind; allowWrite: boolean },
): { identifier?: string; kind?: CredentialKind; allowWrite?: boolean } {
  const changes: { identifier?: string; kind?: CredentialKind; allowWrite?: boolean } = {};
  if (after.identifier !== before.identifier) changes.identifier = after.identifier;
  if (after.kind !== before.kind) changes.kind = after.kind;
  if (after.allowWrite !== before.allowWrite) changes.allowWrite = after.allowWrite;
  return changes;
}
