// Who is signed in, shared by every page. The access token lives in memory only; a reload
// gets a new one through the HTTP-only refresh cookie the server set at sign-in.

import { useEffect, useState } from "preact/hooks";
import { api, onSignedOut, refreshAccess, setAccessToken } from "./api/client";
import type { AuthAnswer, User } from "./api/types";

type State = { status: "loading" } | { status: "signed-out" } | { status: "signed-in"; user: User };

let state: State = { status: "loading" };
const listeners = new Set<(s: State) => void>();

function set(next: State) {
  state = next;
  listeners.forEach((listener) => listener(next));
}

export function useSession(): State {
  const [current, setCurrent] = useState(state);
  useEffect(() => {
    listeners.add(setCurrent);
    setCurrent(state);
    return () => void listeners.delete(setCurrent);
  }, []);
  return current;
}

/** At start: a still-valid refresh cookie signs the browser back in. */
export async function restore() {
  if (await refreshAccess()) {
    try {
      const { user } = await api<{ user: User }>("GET", "/api/workbook/auth/me");
      return set({ status: "signed-in", user });
    } catch {
      /* fall through: signed out */
    }
  }
  set({ status: "signed-out" });
}

export async function signIn(email: string, password: string) {
  accept(await api<AuthAnswer>("POST", "/api/workbook/auth/login", { body: { email, password } }));
}

export async function signUp(name: string, email: string, password: string) {
  accept(await api<AuthAnswer>("POST", "/api/workbook/auth/register", { body: { name, email, password } }));
}

export async function signOut() {
  try {
    await api("POST", "/api/workbook/auth/logout", { body: {} });
  } finally {
    setAccessToken(null);
    set({ status: "signed-out" });
  }
}

function accept(answer: AuthAnswer) {
  setAccessToken(answer.token);
  set({ status: "signed-in", user: answer.user });
}

onSignedOut(() => set({ status: "signed-out" }));
