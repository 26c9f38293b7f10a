import { api, ApiError } from "../api/client";
import type { Note } from "../api/types";

/**
 * Changes a note's details (title, tags, folder, privacy), never its body. Live typing moves
 * the note's `version` every second, so the version is read just before the change; a
 * conflict with a save in between is retried with the newer one.
 */
export async function patchNoteDetails(id: string, changes: Record<string, unknown>): Promise<Note> {
  for (let attempt = 0; ; attempt++) {
    const { note } = await api<{ note: Note }>("GET", `/api/workbook/notes/${id}`);
    try {
      const saved = await api<{ note: Note }>("PATCH", `/api/workbook/notes/${id}`, {
        body: { ...changes, version: note.version },
      });
      return saved.note;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === "version_conflict") || attempt === 2) throw err;
    }
  }
}
