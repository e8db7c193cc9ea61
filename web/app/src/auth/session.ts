// Who the browser acts as. Two ways in: the signed session cookie of the /auth/login flow
// (sent by the browser itself), or, in `opsgraph serve --demo` on loopback only, a demo
// persona's API token, held for this tab in sessionStorage and sent as `x-api-key`.

export interface AuthStatus {
  loginEnabled: boolean;
  demoPersonas: boolean;
}

export interface Persona {
  key: string;
  name: string;
  description: string;
  token: string;
}

const STORAGE_KEY = "opsgraph.persona";

export interface ActingAs {
  key: string;
  name: string;
  token: string;
}

export function loadActingAs(storage: Storage = sessionStorage): ActingAs | null {
  const raw = storage.getItem(STORAGE_KEY);
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Partial<ActingAs>;
    if (typeof value.key === "string" && typeof value.name === "string" && typeof value.token === "string") {
      return { key: value.key, name: value.name, token: value.token };
    }
  } catch {
    // a damaged entry is as good as none
  }
  storage.removeItem(STORAGE_KEY);
  return null;
}

export function saveActingAs(value: ActingAs | null, storage: Storage = sessionStorage): void {
  if (value === null) storage.removeItem(STORAGE_KEY);
  else storage.setItem(STORAGE_KEY, JSON.stringify(value));
}

async function getJson<T>(url: string): Promise<T | null> {
  const response = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } });
  if (!response.ok) return null;
  return (await response.json()) as T;
}

export async function fetchAuthStatus(): Promise<AuthStatus> {
  return (await getJson<AuthStatus>("/auth/status")) ?? { loginEnabled: false, demoPersonas: false };
}

export async function fetchPersonas(): Promise<Persona[]> {
  const body = await getJson<{ personas: Persona[] }>("/auth/demo/personas");
  return body?.personas ?? [];
}
