// The hub socket of one participant: join over REST for a ticket, connect, number requests
// and match their answers, resume after a drop. What to do with frames is the caller's.

import { api } from "../api/client";
import type { HubEvent, Snapshot } from "./state";

export interface Joined {
  session: { id: string; title: string; status: string; hostId: string };
  participant: { id: string; name: string };
  role: string;
  capabilities: string[];
  ticket: string;
  hubUrl: string;
  mediaUrl: string | null;
  iceServers: RTCIceServer[];
}

export interface HubHandlers {
  welcome(frame: { capabilities: string[]; seq: number; lobby: boolean; snapshot?: Snapshot; participant: { role: string } }): void;
  event(seq: number, at: string, event: HubEvent): void;
  snapshot(snapshot: Snapshot): void;
  signal(signal: { kind: string } & Record<string, any>): void;
  mediaOffer(sdp: string): void;
  /** The connection is down: `final` when reconnecting cannot help (removed, banned, ended). */
  closed(reason: string, final: boolean): void;
}

export class HubError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Close codes after which the client must not reconnect (HUB_PROTOCOL.md, Close codes). */
const FINAL: Record<number, string> = {
  4400: "You were removed from the session.",
  4403: "You are banned from this session.",
  4406: "The host did not admit you.",
  4409: "You joined this session from another tab or device.",
  4410: "The session has ended.",
  4413: "A message was too large for the session.",
};

export class Hub {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  private lastSeq = 0;
  private stopped = false;
  private retry = 0;

  /** The browser says the network is gone: a socket would only hang until the server's
   *  ping timeout, so close it now and reconnect as soon as the network is back. */
  private readonly offline = () => this.ws?.close(4999, "offline");
  private readonly online = () => {
    this.retry = 0;
    this.wake?.();
  };
  private wake: (() => void) | null = null;

  constructor(
    readonly sessionId: string,
    private readonly handlers: HubHandlers,
    /** How a ticket is obtained: the account's join, or a guest's rejoin with its pass. */
    private readonly join: () => Promise<Joined> = () =>
      api<Joined>("POST", `/api/workbook/sessions/${sessionId}/join`, { body: {} }),
  ) {
    window.addEventListener("offline", this.offline);
    window.addEventListener("online", this.online);
  }

  /** Joins (a fresh ticket each time) and connects; resolves with the join's answer. */
  async connect(): Promise<Joined> {
    const joined = await this.join();
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // The server's hubUrl names the host it was reached at; the page's own origin is the one
    // this browser can reach (and the one the CSP allows).
    const path = new URL(joined.hubUrl).pathname;
    const resume = this.lastSeq ? `&last_seq=${this.lastSeq}` : "";
    const ws = new WebSocket(`${scheme}://${location.host}${path}?ticket=${encodeURIComponent(joined.ticket)}${resume}`);
    this.ws = ws;
    ws.onmessage = (m) => this.receive(JSON.parse(m.data));
    ws.onclose = (e) => this.onClose(ws, e.code);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("close", () => reject(new Error("The session connection failed.")), { once: true });
    });
    this.retry = 0;
    return joined;
  }

  /** Sends a request; resolves with the `ack`'s result, rejects with the `error`. */
  request<T = any>(message: { type: string } & Record<string, unknown>): Promise<T> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new HubError("offline", "Not connected to the session."));
    const id = this.nextId++;
    ws.send(JSON.stringify({ ...message, id }));
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  close() {
    this.stopped = true;
    window.removeEventListener("offline", this.offline);
    window.removeEventListener("online", this.online);
    this.ws?.close(1000);
  }

  private receive(frame: any) {
    switch (frame.type) {
      case "welcome":
        if (frame.snapshot) this.lastSeq = frame.snapshot.seq;
        this.handlers.welcome(frame);
        break;
      case "event":
        if (frame.seq <= this.lastSeq) return; // already applied (a resume overlaps)
        this.lastSeq = frame.seq;
        this.handlers.event(frame.seq, frame.at, frame.event);
        break;
      case "snapshot":
        this.lastSeq = frame.snapshot.seq;
        this.handlers.snapshot(frame.snapshot);
        break;
      case "signal":
        this.handlers.signal(frame.signal);
        break;
      case "media.offer":
        this.handlers.mediaOffer(frame.sdp);
        break;
      case "ack":
      case "error": {
        const waiting = this.waiting.get(frame.ref);
        if (!waiting) {
          if (frame.type === "error") console.warn("hub:", frame.code, frame.message);
          return;
        }
        this.waiting.delete(frame.ref);
        if (frame.type === "ack") waiting.resolve(frame.result ?? {});
        else waiting.reject(new HubError(frame.code, frame.message));
        break;
      }
    }
  }

  private onClose(ws: WebSocket, code: number) {
    if (ws !== this.ws) return;
    for (const { reject } of this.waiting.values()) reject(new HubError("offline", "The connection to the session closed."));
    this.waiting.clear();
    if (this.stopped) return;
    const final = FINAL[code];
    this.handlers.closed(final ?? "Reconnecting to the session…", Boolean(final));
    if (!final) void this.reconnect();
  }

  /** Back off 0.5, 1, 2 … 8 s; each attempt joins for a new ticket and resumes from `lastSeq`. */
  private async reconnect() {
    while (!this.stopped) {
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, Math.min(8000, 500 * 2 ** this.retry++));
      });
      this.wake = null;
      try {
        await this.connect();
        return;
      } catch (err) {
        // A refused join (ended, banned) will not get better by retrying.
        const code = (err as { code?: string }).code;
        if (code === "session_ended" || code === "banned" || code === "session_not_live") {
          this.handlers.closed((err as Error).message, true);
          return;
        }
      }
    }
  }
}

/** A guest's pass for one session, kept for the tab's life (sessionStorage). */
export interface GuestPass {
  id: string;
  secret: string;
}

const passKey = (sessionId: string) => `workbook-guest-${sessionId}`;

export function saveGuestPass(sessionId: string, pass: GuestPass) {
  sessionStorage.setItem(passKey(sessionId), JSON.stringify(pass));
}

export function guestPass(sessionId: string): GuestPass | null {
  const stored = sessionStorage.getItem(passKey(sessionId));
  return stored ? (JSON.parse(stored) as GuestPass) : null;
}

/** The guest's way to a ticket: its id and secret, no account. */
export function guestJoin(sessionId: string, pass: GuestPass): () => Promise<Joined> {
  return () =>
    api<Joined>("POST", `/api/workbook/sessions/${sessionId}/guest-join`, { body: { guestId: pass.id, secret: pass.secret } });
}
