// One way to call the server: JSON in and out, the access token kept in memory and renewed
// through the HTTP-only refresh cookie, every failure turned into an `ApiError` that pages
// show as it is (the server's code, message and field errors).

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
    readonly retryAfter?: number,
  ) {
    super(message);
  }

  /** The message for one field of a form, if the server named it. */
  field(name: string): string | undefined {
    return this.fields.find((f) => f.field === name)?.message;
  }
}

let accessToken: string | null = null;
let refreshing: Promise<boolean> | null = null;
const signedOutListeners = new Set<() => void>();

export function setAccessToken(token: string | null) {
  accessToken = token;
}

export function currentAccessToken(): string | null {
  return accessToken;
}

/** Called when the server no longer accepts this browser's login. */
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

/** Trades the refresh cookie for a new access token; concurrent callers share one request. */
export function refreshAccess(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const res = await fetch("/api/workbook/auth/refresh", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
        credentials: "same-origin",
      });
      if (!res.ok) return false;
      const body = await res.json();
      accessToken = body.token;
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export interface RequestOptions {
  body?: unknown;
  /** A multipart body, sent as it is. */
  form?: FormData;
  signal?: AbortSignal;
}

export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const res = await authorized(path, (token) => send(method, path, options, token));
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/**
 * The one place a request renews its login: `send` makes the request with the access token
 * it is given; a 401 trades the refresh cookie for a new token and sends once more, and a
 * 401 after that signs the browser out. JSON calls, downloads and uploads all go through it.
 */
export async function authorized(path: string, send: (token: string | null) => Promise<Response>): Promise<Response> {
  let res = await send(accessToken);
  // The auth routes answer 401 for wrong credentials: nothing to renew there.
  if (res.status !== 401 || path.startsWith("/api/workbook/auth/")) return res;
  if (await refreshAccess()) res = await send(accessToken);
  if (res.status === 401) {
    accessToken = null;
    signedOutListeners.forEach((listener) => listener());
  }
  return res;
}

function send(method: string, path: string, options: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  let body: BodyInit | undefined;
  if (options.form) {
    body = options.form;
  } else if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  return fetch(path, { method, headers, body, signal: options.signal, credentials: "same-origin" }).catch(
    (err: unknown) => {
      if (err instanceof DOMException && err.name === "AbortError") throw err;
      throw new ApiError(0, "offline", "The server cannot be reached. Check the connection and try again.");
    },
  );
}

/** The server's error body, or a plain one when a proxy answered instead. */
export async function errorOf(res: Response): Promise<ApiError> {
  const retryAfter = Number(res.headers.get("retry-after")) || undefined;
  try {
    const body = await res.json();
    const e = body.error ?? {};
    return new ApiError(res.status, e.code ?? "http_error", e.message ?? res.statusText, e.fields ?? [], retryAfter);
  } catch {
    return new ApiError(res.status, "http_error", `The server answered ${res.status} ${res.statusText}.`);
  }
}

/** A sentence for any thrown value, for an error banner. */
export function describe(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === "rate_limited" && err.retryAfter) {
      return `${err.message} Try again in ${err.retryAfter} s.`;
    }
    const fields = err.fields.map((f) => `${f.field}: ${f.message}`).join("; ");
    return fields ? `${err.message} (${fields})` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** A query string from the set values of `params`. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") q.set(key, String(value));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}
