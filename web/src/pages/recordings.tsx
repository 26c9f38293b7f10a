import { useEffect, useRef, useState } from "preact/hooks";
import { Link, useSearch } from "wouter-preact";
import { api } from "../api/client";
import { ErrorBanner, Loading, ProgressBar } from "../ui/feedback";
import { useAction } from "../ui/useaction";
import { useLoad } from "../ui/useload";
import { formatDuration } from "./audio";

interface Track {
  id: string;
  displayName: string;
  source: string;
  codec: string;
  mediaUrl: string;
}

interface SessionRecording {
  id: string;
  status: string;
  shared: boolean;
  stopReason: string | null;
  startedAt: string;
  stoppedAt: string | null;
  tracks: Track[];
}

interface Transcript {
  tracks: { trackId: string; displayName: string; status: string | null; progress: number }[];
  segments: { startSecs: number; endSecs: number; text: string; displayName: string; trackId: string }[];
}

/** A session's recordings: share, delete, and each one's transcript by speaker. */
export function RecordingsPage({ id }: { id: string }) {
  const params = new URLSearchParams(useSearch());
  const list = useLoad(() => api<{ recordings: SessionRecording[] }>("GET", `/api/workbook/sessions/${id}/recordings`), [id]);
  const { error, act } = useAction(list.reload);
  const chosen = params.get("recording");

  const recordings = list.value?.recordings;
  return (
    <section>
      <p>
        <Link href="/sessions">← Sessions</Link>
      </p>
      <h1>Recordings</h1>
      <ErrorBanner error={error ?? list.error} onRetry={list.reload} />
      {!recordings && !list.error && <Loading label="Loading recordings" />}
      {recordings?.length === 0 && <p>This session has no recordings.</p>}
      {recordings?.map((r) => (
        <article class="card" key={r.id}>
          <h2>
            {new Date(r.startedAt).toLocaleString()} · {r.status}
          </h2>
          <p class="meta">
            {r.tracks.length} tracks{r.stopReason && ` · stopped: ${r.stopReason}`}
            {r.shared && " · shared with participants"}
          </p>
          <div class="actions">
            <button type="button" onClick={() => void act(() => api("PATCH", `/api/workbook/sessions/${id}/recordings/${r.id}`, { body: { shared: !r.shared } }))}>
              {r.shared ? "Stop sharing" : "Share with participants"}
            </button>
            <button
              type="button"
              class="danger"
              onClick={() => confirm("Delete this recording and its transcript?") && void act(() => api("DELETE", `/api/workbook/sessions/${id}/recordings/${r.id}`))}
            >
              Delete
            </button>
          </div>
          {r.status !== "recording" && (
            <TranscriptView
              session={id}
              recording={r}
              start={chosen === r.id ? Number(params.get("t")) || 0 : null}
              startTrack={chosen === r.id ? params.get("track") : null}
            />
          )}
        </article>
      ))}
    </section>
  );
}

function TranscriptView(props: { session: string; recording: SessionRecording; start: number | null; startTrack: string | null }) {
  const { session, recording } = props;
  const transcript = useLoad(() => api<Transcript>("GET", `/api/workbook/sessions/${session}/recordings/${recording.id}/transcript`), [recording.id]);
  const [filter, setFilter] = useState("");
  const [playing, setPlaying] = useState<{ track: string; at: number } | null>(
    props.start !== null && props.startTrack ? { track: props.startTrack, at: props.start } : null,
  );
  const player = useRef<HTMLAudioElement>(null);
  const pending = transcript.value?.tracks.filter((t) => t.status === "queued" || t.status === "running") ?? [];

  useEffect(() => {
    if (pending.length === 0) return;
    const timer = setTimeout(() => void transcript.reload(), 1500);
    return () => clearTimeout(timer);
  }, [transcript.value]);

  useEffect(() => {
    const audio = player.current;
    if (!audio || !playing) return;
    const seek = () => {
      audio.currentTime = playing.at;
      void audio.play().catch(() => {});
    };
    if (audio.readyState >= 1) seek();
    else audio.addEventListener("loadedmetadata", seek, { once: true });
  }, [playing]);

  const trackUrl = (trackId: string) => recording.tracks.find((t) => t.id === trackId)?.mediaUrl;
  const words = filter.trim().toLowerCase();
  const segments = transcript.value?.segments.filter((s) => !words || s.text.toLowerCase().includes(words)) ?? [];
  return (
    <section aria-label="Transcript">
      <ErrorBanner error={transcript.error} onRetry={transcript.reload} />
      {pending.map((t) => (
        <div key={t.trackId}>
          <span>Transcribing {t.displayName}…</span>
          <ProgressBar value={t.progress} label={`Transcription of ${t.displayName}`} />
        </div>
      ))}
      {playing && <audio ref={player} controls src={trackUrl(playing.track)} aria-label="Recording player" />}
      {transcript.value && transcript.value.segments.length > 0 && (
        <>
          <label for={`filter-${recording.id}`}>Search the transcript</label>{" "}
          <input id={`filter-${recording.id}`} type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
          <ol class="transcript">
            {segments.map((s, i) => (
              <li key={i} class={playing && playing.track === s.trackId && playing.at >= s.startSecs && playing.at < s.endSecs ? "current" : undefined}>
                <button type="button" class="time" onClick={() => setPlaying({ track: s.trackId, at: s.startSecs })} aria-label={`Play ${s.displayName} from ${formatDuration(s.startSecs)}`}>
                  {formatDuration(s.startSecs)}
                </button>
                <strong>{s.displayName}: </strong>
                <Highlighted text={s.text} words={words} />
              </li>
            ))}
          </ol>
        </>
      )}
      {transcript.value && transcript.value.segments.length === 0 && pending.length === 0 && <p class="meta">No transcript.</p>}
    </section>
  );
}

function Highlighted({ text, words }: { text: string; words: string }) {
  if (!words) return <span>{text}</span>;
  const at = text.toLowerCase().indexOf(words);
  if (at < 0) return <span>{text}</span>;
  return (
    <span>
      {text.slice(0, at)}
      <mark>{text.slice(at, at + words.length)}</mark>
      {text.slice(at + words.length)}
    </span>
  );
}
