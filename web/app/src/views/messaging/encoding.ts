// Messages as the messaging API carries them: the payload base64-encoded, attributes as
// key/value pairs. The console lets people type text and attribute rows; these helpers turn
// them into what `publish` takes, and pulled messages back into something readable.

/** Text -> base64 of its UTF-8 bytes (what `PublishMessageInput.data` takes). */
export function encodeText(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export interface DecodedData {
  /** The payload as UTF-8 text, or null when it is not valid UTF-8 (binary data). */
  text: string | null;
  /** The payload's length in bytes. */
  size: number;
  /** The base64 as received, for binary payloads and copying. */
  base64: string;
}

/** A pulled message's base64 `data` -> its text when the bytes are UTF-8. Malformed base64
 * gives `text: null` rather than throwing, so one odd message cannot break the list. */
export function decodeData(base64: string): DecodedData {
  let binary: string;
  try {
    binary = atob(base64);
  } catch {
    return { text: null, size: 0, base64 };
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes), size: bytes.length, base64 };
  } catch {
    return { text: null, size: bytes.length, base64 };
  }
}

export interface AttributeRow {
  key: string;
  value: string;
}

export interface AttributeCheck {
  /** What `PublishMessageInput.attributes` takes: blank rows left out. */
  attributes: AttributeRow[];
  /** Row index -> what is wrong with it (a value without a key, a key given twice). */
  problems: Record<number, string>;
}

/** The attribute rows of the publish form -> the attributes to send, and a problem per row
 * that cannot be sent as it is. Keys are trimmed; values are kept as typed. */
export function checkAttributes(rows: readonly AttributeRow[]): AttributeCheck {
  const attributes: AttributeRow[] = [];
  const problems: Record<number, string> = {};
  const seen = new Set<string>();
  rows.forEach((row, index) => {
    const key = row.key.trim();
    if (key === "" && row.value === "") return;
    if (key === "") {
      problems[index] = "An attribute needs a key.";
      return;
    }
    if (seen.has(key)) {
      problems[index] = `The key “${key}” is given twice.`;
      return;
    }
    seen.add(key);
    attributes.push({ key, value: row.value });
  });
  return { attributes, problems };
}

/** An ACL or member list typed one subject per line (or separated by commas) -> the
 * subjects, trimmed, blanks and repeats left out, in the order typed. */
export function parseSubjects(text: string): string[] {
  const found: string[] = [];
  for (const part of text.split(/[\n,]/)) {
    const subject = part.trim();
    if (subject !== "" && !found.includes(subject)) found.push(subject);
  }
  return found;
}

/** Bytes in words: 512 B, 1.5 KiB, 3.2 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
