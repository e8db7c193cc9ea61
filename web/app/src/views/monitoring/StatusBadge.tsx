// A monitoring status (OK, WARNING, CRITICAL, UNKNOWN, MISSING, DOWNTIME) in words and colour:
// the word is always there, so colour is never the only sign.
const KNOWN = new Set(["OK", "WARNING", "CRITICAL", "UNKNOWN", "MISSING", "DOWNTIME"]);

export function statusClass(status: string): string {
  return `monitoring-status monitoring-status-${KNOWN.has(status) ? status.toLowerCase() : "other"}`;
}

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={statusClass(status)} data-status={status}>
      {status}
    </span>
  );
}
