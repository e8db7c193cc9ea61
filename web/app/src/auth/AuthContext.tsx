import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { fetchAuthStatus, fetchPersonas, loadActingAs, saveActingAs, type ActingAs, type AuthStatus, type Persona } from "./session";

export interface Auth {
  status: AuthStatus | null;
  personas: Persona[];
  actingAs: ActingAs | null;
  /** Act as a demo persona (null: as the session cookie says, or anonymous). */
  actAs: (persona: Persona | null) => void;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<AuthStatus | null>(null);
  const [personas, setPersonas] = useState<Persona[]>([]);
  const [actingAs, setActingAs] = useState<ActingAs | null>(() => loadActingAs());

  useEffect(() => {
    let live = true;
    void fetchAuthStatus().then(async (value) => {
      if (!live) return;
      setStatus(value);
      if (value.demoPersonas) {
        const list = await fetchPersonas();
        if (live) setPersonas(list);
      }
    });
    return () => {
      live = false;
    };
  }, []);

  const actAs = useCallback((persona: Persona | null) => {
    const next = persona ? { key: persona.key, name: persona.name, token: persona.token } : null;
    saveActingAs(next);
    setActingAs(next);
  }, []);

  const value = useMemo(() => ({ status, personas, actingAs, actAs }), [status, personas, actingAs, actAs]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const value = useContext(AuthContext);
  if (value === null) throw new Error("useAuth outside AuthProvider");
  return value;
}
