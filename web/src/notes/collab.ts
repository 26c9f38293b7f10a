// A note's live document: the Yjs doc kept in IndexedDB (so it opens and edits offline),
// synced with the server's note room by the stock y-websocket provider, shown in CodeMirror
// with the other editors' cursors and names.

import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { markdownLanguage } from "@codemirror/lang-markdown";
import { defaultHighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers } from "@codemirror/view";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { IndexeddbPersistence } from "y-indexeddb";
import { WebsocketProvider } from "y-websocket";
import * as Y from "yjs";
import { currentAccessToken, refreshAccess } from "../api/client";

export type LinkState = "connecting" | "connected" | "offline" | "closed";

export interface CollabEvents {
  /** The connection to the room changed; `reason` says why it closed for good. */
  onLink(state: LinkState, reason?: string): void;
  /** The people in the note now (this browser first). */
  onPeople(names: { name: string; color: string }[]): void;
  /** The server granted this reader write access: reopen editable. */
  onWriteGranted(): void;
}

/** Close codes after which reconnecting cannot help (NOTES_PROTOCOL.md). */
const FINAL: Record<number, string> = {
  4403: "Your access to this note was revoked.",
  4404: "This note was deleted, or you may no longer see it.",
  4413: "This note is too large to edit live.",
};

export class Collab {
  readonly doc = new Y.Doc();
  readonly view: EditorView;
  private readonly provider: WebsocketProvider;
  private readonly local: IndexeddbPersistence;

  constructor(
    parent: HTMLElement,
    noteId: string,
    user: { id: string; name: string },
    readOnly: boolean,
    events: CollabEvents,
  ) {
    this.local = new IndexeddbPersistence(`workbook-note-${noteId}`, this.doc);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.provider = new WebsocketProvider(`${scheme}://${location.host}/api/workbook/notes/ws`, noteId, this.doc, {
      params: { token: currentAccessToken() ?? "" },
    });
    const color = colorOf(user.id);
    this.provider.awareness.setLocalStateField("user", { name: user.name, color, colorLight: `${color}33` });
    this.provider.on("status", ({ status }) => {
      events.onLink(status === "connected" ? "connected" : navigator.onLine ? "connecting" : "offline");
    });
    this.provider.on("connection-close", (event) => this.closed(event?.code ?? 0, events));
    this.provider.awareness.on("change", () => events.onPeople(this.people()));

    const text = this.doc.getText("content");
    this.view = new EditorView({
      parent,
      state: EditorState.create({
        doc: text.toString(),
        extensions: [
          lineNumbers(),
          history(),
          keymap.of([...yUndoManagerKeymap, ...defaultKeymap, ...historyKeymap]),
          // The Markdown language alone: `markdown()` would bring the HTML, CSS and
          // JavaScript parsers for embedded code and triple the editor's download.
          markdownLanguage,
          syntaxHighlighting(defaultHighlightStyle),
          EditorView.lineWrapping,
          EditorState.readOnly.of(readOnly),
          EditorView.contentAttributes.of({ "aria-label": "Note text (Markdown)" }),
          yCollab(text, this.provider.awareness),
        ],
      }),
    });
  }

  private async closed(code: number, events: CollabEvents) {
    if (FINAL[code]) {
      this.provider.disconnect();
      events.onLink("closed", FINAL[code]);
    } else if (code === 4401) {
      // The access token expired: the provider reconnects with a fresh one.
      if (await refreshAccess()) this.provider.params.token = currentAccessToken() ?? "";
      else {
        this.provider.disconnect();
        events.onLink("closed", "You are signed out; sign in again to keep editing.");
      }
    } else if (code === 4504) {
      events.onWriteGranted();
    }
  }

  private people() {
    const people: { name: string; color: string }[] = [];
    this.provider.awareness.getStates().forEach((state, clientId) => {
      const user = state.user as { name: string; color: string } | undefined;
      if (!user) return;
      if (clientId === this.doc.clientID) people.unshift(user);
      else people.push(user);
    });
    return people;
  }

  destroy() {
    this.view.destroy();
    this.provider.destroy();
    void this.local.destroy();
    this.doc.destroy();
  }
}

/** A stable, readable cursor colour per account. */
function colorOf(id: string): string {
  let hash = 0;
  for (const ch of id) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  const palette = ["#b5179e", "#1d6fa5", "#2b7a0b", "#a4410e", "#6a4c93", "#0b7a75", "#9b1d20", "#4a5a0b"];
  return palette[Math.abs(hash) % palette.length];
}
