import { useEffect, useRef, useState } from "preact/hooks";
import { Link, useSearch } from "wouter-preact";
import { api } from "../api/client";
import type { RecordingDetail } from "../api/types";
import { ErrorBanner, Loading, ProgressBar } from "../ui/feedback";
import { useLoad } from "../ui/useload";
import { formatDuration } from "./audio";

/** One upload: the player, the transcription's progress, then the timestamped transcript. */
export function RecordingPage({ id }: { id: string }) {
  const { value, error, reload } = useLoad(() => api<RecordingDetail>("GET", `/api/workbook/audio/${id}`), [id]);
  const start = Number(new URLSearchParams(useSearch()).get("t")) || 0;
  const player = useRef<HTMLAudioElement>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const job = value?.transcription;
  const active = job?.status === "queued" || job?.status === "running";

  useEffect(() => {
    if (!active) return;
    const timer = setTimeout(() => void reload(), 1000);
    return () => clearTimeout(timer);
  }, [value]);

  function seek(secs: number) {
    const audio = player.current;
    if (!audio) return;
    audio.currentTime = secs;
    void audio.play().catch(() => {});
  }

  async function transcribe() {
    try {
      await api("POST", "/api/workbook/audio/transcribe", { body: { recordingId: id } });
      await reload();
    } catch (err) {
      setActionError(err);
    }
  }

  if (error && !value) return <ErrorBanner error={error} onRetry={reload} />;
  if (!value) return <Loading label="Loading the recording" />;
  const { recording, segments } = value;
  return (
    <article>
      <p>
        <Link href="/audio">← All recordings</Link>
      </p>
      <h1>{recording.title}</h1>
      <p class="meta">{formatDuration(recording.durationSecs)}</p>
      <audio
        ref={player}
        controls
        preload="metadata"
        src={`/api/workbook/audio/${id}/file#t=${start}`}
        aria-label={`Play ${recording.title}`}
      />
      <ErrorBanner error={actionError} />
      {active && (
        <div role="status">
          <p>Transcribing ({job!.status})…</p>
          <ProgressBar value={job!.progress} label="Transcription" />
        </div>
      )}
      {(job?.status === "failed" || job?.status === "cancelled" || !job) && (
        <p>
          {job?.status === "failed" && <span>The transcription failed: {job.error}. </span>}
          <button type="button" onClick={() => void transcribe()}>
            {job ? "Transcribe again" : "Transcribe"}
          </button>
        </p>
      )}
      {segments && (
        <section aria-labelledby="transcript">
          <h2 id="transcript">Transcript</h2>
          <ol class="transcript">
            {segments.map((s, i) => (
              <li key={i} class={start >= s.startSecs && start < s.endSecs ? "current" : undefined}>
                <button type="button" class="time" onClick={() => seek(s.startSecs)} aria-label={`Play from ${formatDuration(s.startSecs)}`}>
                  {formatDuration(s.startSecs)}
                </button>
                {s.speaker && <strong>{s.speaker}: </strong>}
                <span>{s.text}</span>
              </li>
            ))}
          </ol>
        </section>
      )}
    </article>
  );
}
