import { useEffect, useRef, useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api } from "../api/client";
import { download } from "../api/download";
import type { Note, Share, User } from "../api/types";
import { Collab, type LinkState } from "../notes/collab";
import { patchNoteDetails } from "../notes/patch";
import { ErrorBanner, Loading, Notice } from "../ui/feedback";
import { Field } from "../ui/form";
import { useAction } from "../ui/useaction";
import { useLoad } from "../ui/useload";

const LINK_TEXT: Record<LinkState, string> = {
  connecting: "Connecting…",
  connected: "Live: changes are saved as you type",
  offline: "Offline: changes are kept in this browser and merge when you reconnect",
  closed: "Disconnected",
};

/** One note: its details, sharing, export, and the live editor. */
export function NotePage({ id, user }: { id: string; user: User }) {
  const { value, error, reload, setValue } = useLoad(() => api<{ note: Note }>("GET", `/api/workbook/notes/${id}`), [id]);
  const note = value?.note;
  if (error) return <ErrorBanner error={error} onRetry={reload} />;
  if (!note) return <Loading label="Loading the note" />;
  return (
    <article class="note">
      <p>
        <Link href="/notes">← All notes</Link>
      </p>
      <NoteDetails note={note} onSaved={(saved) => setValue({ note: saved })} />
      <Editor note={note} user={user} onWriteGranted={reload} />
      <ExportButtons note={note} />
      {note.permission === "owner" && <SharePanel note={note} onChanged={reload} />}
    </article>
  );
}

function NoteDetails({ note, onSaved }: { note: Note; onSaved: (note: Note) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [, navigate] = useLocation();
  const canEdit = note.permission !== "read";

  async function save(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const tags = String(form.get("tags") ?? "")
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean);
    const changes: Record<string, unknown> = { title: form.get("title"), tags };
    if (note.permission === "owner") changes.folder = String(form.get("folder") ?? "").trim() || null;
    try {
      onSaved(await patchNoteDetails(note.id, changes));
      setError(null);
    } catch (err) {
      setError(err);
    }
  }

  async function remove() {
    if (!confirm(`Delete “${note.title}”? This cannot be undone.`)) return;
    try {
      await api("DELETE", `/api/workbook/notes/${note.id}`);
      navigate("/notes");
    } catch (err) {
      setError(err);
    }
  }

  if (!canEdit) {
    return (
      <header>
        <h1>{note.title}</h1>
        <p class="meta">Shared with you to read · {note.tags.map((t) => `#${t}`).join(" ")}</p>
      </header>
    );
  }
  return (
    <form class="note-details" onSubmit={save} key={note.version} aria-label="Note details">
      <h1 class="visually-hidden">{note.title}</h1>
      <Field id="title" label="Title" error={error}>
        <input id="title" name="title" required maxLength={255} defaultValue={note.title} />
      </Field>
      <Field id="tags" label="Tags (comma-separated)" error={error}>
        <input id="tags" name="tags" defaultValue={note.tags.join(", ")} />
      </Field>
      {note.permission === "owner" && (
        <Field id="folder" label="Folder" error={error}>
          <input id="folder" name="folder" defaultValue={note.folder ?? ""} />
        </Field>
      )}
      <div class="actions">
        <button type="submit">Save details</button>
        {note.permission === "owner" && (
          <button type="button" class="danger" onClick={() => void remove()}>
            Delete note
          </button>
        )}
      </div>
      <ErrorBanner error={error} />
    </form>
  );
}

function Editor({ note, user, onWriteGranted }: { note: Note; user: User; onWriteGranted: () => void }) {
  const host = useRef<HTMLDivElement>(null);
  const [link, setLink] = useState<{ state: LinkState; reason?: string }>({ state: "connecting" });
  const [people, setPeople] = useState<{ name: string; color: string }[]>([]);
  const readOnly = note.permission === "read";

  useEffect(() => {
    const collab = new Collab(host.current!, note.id, user, readOnly, {
      onLink: (state, reason) => setLink({ state, reason }),
      onPeople: setPeople,
      onWriteGranted,
    });
    const offline = () => setLink({ state: "offline" });
    window.addEventListener("offline", offline);
    return () => {
      window.removeEventListener("offline", offline);
      collab.destroy();
    };
  }, [note.id, user.id, readOnly]);

  return (
    <section aria-label="Editor">
      <p class={`link ${link.state}`} role="status">
        {link.reason ?? LINK_TEXT[link.state]}
        {readOnly && " · read only"}
      </p>
      <ul class="people" aria-label="People in this note">
        {people.map((p, i) => (
          <li key={i} style={{ borderColor: p.color }}>
            {p.name}
            {i === 0 && " (you)"}
          </li>
        ))}
      </ul>
      <div class="editor" ref={host} />
    </section>
  );
}

function ExportButtons({ note }: { note: Note }) {
  const [error, setError] = useState<unknown>(null);
  return (
    <p class="actions">
      Export:{" "}
      {(["md", "json", "pdf"] as const).map((format) => (
        <button
          type="button"
          key={format}
          onClick={() => download(`/api/workbook/notes/${note.id}/export?format=${format}`, `note.${format}`).catch(setError)}
        >
          {format.toUpperCase()}
        </button>
      ))}
      <ErrorBanner error={error} />
    </p>
  );
}

function SharePanel({ note, onChanged }: { note: Note; onChanged: () => void }) {
  const shares = useLoad(() => api<{ shares: Share[] }>("GET", `/api/workbook/notes/${note.id}/shares`), [note.id, note.isPrivate]);
  const { error, act } = useAction(shares.reload);

  async function setPrivate(isPrivate: boolean) {
    await act(() => patchNoteDetails(note.id, { isPrivate }));
    onChanged();
  }

  function share(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    void act(() =>
      api("POST", `/api/workbook/notes/${note.id}/shares`, {
        body: { email: form.get("email"), permission: form.get("permission") },
      }),
    );
  }

  return (
    <section aria-labelledby="sharing">
      <h2 id="sharing">Sharing</h2>
      <ErrorBanner error={error ?? shares.error} />
      {note.isPrivate ? (
        <Notice>
          This note is private.{" "}
          <button type="button" onClick={() => void setPrivate(false)}>
            Allow sharing
          </button>
        </Notice>
      ) : (
        <>
          <ul>
            {shares.value?.shares.map((s) => (
              <li key={s.userId}>
                {s.name} ({s.email}) can {s.permission}{" "}
                <button
                  type="button"
                  onClick={() => void act(() => api("DELETE", `/api/workbook/notes/${note.id}/shares/${s.userId}`))}
                >
                  Revoke
                </button>
              </li>
            ))}
          </ul>
          <form class="inline" onSubmit={share} aria-label="Share with someone">
            <label for="share-email">Email</label>
            <input id="share-email" name="email" type="email" required />
            <label for="share-permission">Permission</label>
            <select id="share-permission" name="permission">
              <option value="write">can edit</option>
              <option value="read">can read</option>
            </select>
            <button type="submit">Share</button>
          </form>
          <button type="button" onClick={() => void setPrivate(true)}>
            Make private (revokes every share)
          </button>
        </>
      )}
    </section>
  );
}
