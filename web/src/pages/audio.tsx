import { useRef, useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api } from "../api/client";
import type { Recording as StoredRecording } from "../api/types";
import { canRecord, startRecording, type Recording } from "../audio/recorder";
import { upload } from "../api/upload";
import { ErrorBanner, Loading, ProgressBar } from "../ui/feedback";
import { useLoad } from "../ui/useload";

const EXTENSION: Record<string, string> = { "audio/wav": "wav", "audio/ogg;codecs=opus": "opus", "audio/mp4;codecs=mp4a.40.2": "m4a" };

/** Uploads (drag and drop or a file picker), voice recording, and my recordings. */
export function AudioPage() {
  const list = useLoad(() => api<{ recordings: StoredRecording[] }>("GET", "/api/workbook/audio?limit=100"), []);
  const [, navigate] = useLocation();
  const [sent, setSent] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [dragging, setDragging] = useState(false);

  async function send(file: Blob, title: string) {
    setError(null);
    setSent(0);
    try {
      const form = new FormData();
      form.set("title", title.slice(0, 255) || "Recording");
      form.set("audio", file, file instanceof File ? file.name : `voice-note.${EXTENSION[file.type] ?? "bin"}`);
      const { recording } = await upload<{ recording: StoredRecording }>("/api/workbook/audio", form, setSent);
      await api("POST", "/api/workbook/audio/transcribe", { body: { recordingId: recording.id } });
      navigate(`/audio/${recording.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setSent(null);
    }
  }

  function pick(files: FileList | null) {
    const file = files?.[0];
    if (file) void send(file, file.name.replace(/\.[^.]+$/, ""));
  }

  return (
    <section>
      <h1>Audio</h1>
      <div
        class={`dropzone${dragging ? " over" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          pick(e.dataTransfer?.files ?? null);
        }}
      >
        <p>Drop an audio file here (WAV, MP3, M4A or Ogg Opus, up to 100 MB), or</p>
        <label class="button" for="audio-file">
          Choose a file
        </label>
        <input id="audio-file" class="visually-hidden" type="file" accept="audio/*" onChange={(e) => pick(e.currentTarget.files)} />
      </div>
      {sent !== null && <ProgressBar value={sent} label="Upload" />}
      <VoiceRecorder onDone={(blob) => void send(blob, `Voice note ${new Date().toLocaleString()}`)} />
      <ErrorBanner error={error} />
      <h2>My recordings</h2>
      <ErrorBanner error={list.error} onRetry={list.reload} />
      {!list.value && !list.error && <Loading label="Loading recordings" />}
      {list.value?.recordings.length === 0 && <p>No recordings yet.</p>}
      <ul class="cards">
        {list.value?.recordings.map((r) => (
          <li class="card" key={r.id}>
            <Link href={`/audio/${r.id}`}>{r.title}</Link>
            <span class="meta">
              {" "}
              · {formatDuration(r.durationSecs)} · {new Date(r.createdAt).toLocaleString()}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function VoiceRecorder({ onDone }: { onDone: (blob: Blob) => void }) {
  const recording = useRef<Recording | null>(null);
  const [active, setActive] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!canRecord()) return <p class="meta">This browser cannot record audio; upload a file instead.</p>;

  async function start() {
    setError(null);
    try {
      recording.current = await startRecording();
      setActive(true);
    } catch (err) {
      setError(err instanceof DOMException ? new Error(`The microphone is not available: ${err.message}`) : err);
    }
  }

  async function stop() {
    const current = recording.current;
    recording.current = null;
    setActive(false);
    if (current) onDone(await current.stop());
  }

  return (
    <div class="actions">
      {active ? (
        <button type="button" class="danger" onClick={() => void stop()}>
          Stop and transcribe
        </button>
      ) : (
        <button type="button" onClick={() => void start()}>
          Record a voice note
        </button>
      )}
      {active && <span role="status">Recording…</span>}
      <ErrorBanner error={error} />
    </div>
  );
}

export function formatDuration(secs: number): string {
  const s = Math.round(secs);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, "0");
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
