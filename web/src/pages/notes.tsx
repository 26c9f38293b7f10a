import { useState } from "preact/hooks";
import { Link, useLocation, useSearch } from "wouter-preact";
import { api, query } from "../api/client";
import { download } from "../api/download";
import type { Note } from "../api/types";
import { ErrorBanner, Loading } from "../ui/feedback";
import { useLoad } from "../ui/useload";

interface NoteList {
  notes: Note[];
  total: number;
}

/** My notes and those shared with me: filter by tag and folder, full-text search, create. */
export function NotesPage() {
  const params = new URLSearchParams(useSearch());
  const [, navigate] = useLocation();
  const search = params.get("search") ?? "";
  const tags = params.get("tags") ?? "";
  const folder = params.get("folder") ?? "";
  const { value, error, reload } = useLoad(
    () => api<NoteList>("GET", `/api/workbook/notes${query({ search, tags, folder, limit: 100 })}`),
    [search, tags, folder],
  );
  const [createError, setCreateError] = useState<unknown>(null);
  const [exportError, setExportError] = useState<unknown>(null);

  function filter(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const next = Object.fromEntries([...form.entries()].map(([k, v]) => [k, String(v).trim()]));
    navigate(`/notes${query(next)}`);
  }

  async function create(e: Event) {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem("title") as HTMLInputElement;
    try {
      const { note } = await api<{ note: Note }>("POST", "/api/workbook/notes", { body: { title: input.value } });
      navigate(`/notes/${note.id}`);
    } catch (err) {
      setCreateError(err);
    }
  }

  return (
    <section>
      <h1>Notes</h1>
      <form class="inline" onSubmit={create} aria-label="New note">
        <label for="new-title">New note</label>
        <input id="new-title" name="title" required maxLength={255} placeholder="Title" />
        <button type="submit" class="primary">
          Create
        </button>
      </form>
      <ErrorBanner error={createError} />
      <form class="filters" onSubmit={filter} aria-label="Filter notes">
        <label for="f-search">Search</label>
        <input id="f-search" name="search" type="search" defaultValue={search} />
        <label for="f-tags">Tags</label>
        <input id="f-tags" name="tags" placeholder="a,b" defaultValue={tags} />
        <label for="f-folder">Folder</label>
        <input id="f-folder" name="folder" defaultValue={folder} />
        <button type="submit">Filter</button>
      </form>
      <p class="actions">
        Export all my notes:{" "}
        {(["md", "json", "pdf"] as const).map((format) => (
          <button
            type="button"
            key={format}
            onClick={() =>
              download(`/api/workbook/notes/export?format=${format}`, `notes.${format}`).catch(setExportError)
            }
          >
            {format.toUpperCase()}
          </button>
        ))}
      </p>
      <ErrorBanner error={exportError} />
      <ErrorBanner error={error} onRetry={reload} />
      {!value && !error && <Loading label="Loading notes" />}
      {value && (
        <p role="status">
          {value.total} {value.total === 1 ? "note" : "notes"}
        </p>
      )}
      <ul class="cards">
        {value?.notes.map((note) => (
          <li class="card" key={note.id}>
            <h2>
              <Link href={`/notes/${note.id}`}>{note.title}</Link>
            </h2>
            <p class="meta">
              {note.permission === "owner" ? (note.isPrivate ? "private" : "shared") : `shared with me (${note.permission})`}
              {note.folder && ` · ${note.folder}`} · updated {new Date(note.updatedAt).toLocaleString()}
            </p>
            {note.snippet && <p class="snippet" dangerouslySetInnerHTML={{ __html: note.snippet }} />}
            {note.tags.length > 0 && (
              <ul class="tags" aria-label="Tags">
                {note.tags.map((tag) => (
                  <li key={tag}>
                    <Link href={`/notes${query({ tags: tag })}`}>#{tag}</Link>
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
