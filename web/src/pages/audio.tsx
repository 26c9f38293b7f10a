import { useRef, useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api } from "../api/client";
import type { Recording } from "../api/types";
import { upload } from "../api/upload";
import { ErrorBanner, Loading, ProgressBar } from "../ui/feedback";
import { useLoad } from "../ui/useload";

/** Containers the server accepts that browsers can record into, best first. */
const RECORDING_TYPES = ["audio/ogg;codecs=opus", "audio/mp4;codecs=mp4a.40.2", "audio/mp4"];

/** Uploads (drag and drop or a file picker), voice recording, and my recordings. */
export function AudioPage() {
  const list = useLoad(() => api<{ recordings: Recording[] }>("GET", "/api/workbook/audio?limit=100"), []);
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
      form.set("audio", file, file instanceof File ? file.name : "recording");
      const { recording } = await upload<{ recording: Recording }>("/api/workbook/audio", form, setSent);
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
  const recorder = useRef<MediaRecorder | null>(null);
  const [recording, setRecording] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const type = typeof MediaRecorder === "undefined" ? undefined : RECORDING_TYPES.find((t) => MediaRecorder.isTypeSupported(t));
  if (!type) return <p class="meta">This browser cannot record audio in a format the server accepts; upload a file instead.</p>;

  async function start() {
    setError(null);
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const chunks: Blob[] = [];
      const r = new MediaRecorder(stream, { mimeType: type });
      r.ondataavailable = (e) => chunks.push(e.data);
      r.onstop = () => {
        stream.getTracks().forEach((t) => t.stop());
        onDone(new Blob(chunks, { type }));
      };
      r.start();
      recorder.current = r;
      setRecording(true);
    } catch (err) {
      setError(err instanceof DOMException ? new Error(`The microphone is not available: ${err.message}`) : err);
    }
  }

  function stop() {
    recorder.current?.stop();
    recorder.current = null;
    setRecording(false);
  }

  return (
    <div class="actions">
      {recording ? (
        <button type="button" class="danger" onClick={stop}>
          Stop and transcribe
        </button>
      ) : (
        <button type="button" onClick={() => void start()}>
          Record a voice note
        </button>
      )}
      {recording && <span role="status">Recording…</span>}
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
