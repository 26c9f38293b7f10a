import { useEffect, useRef, useState } from "preact/hooks";
import type { Media, RemoteTrack } from "./media";
import type { Room } from "./useroom";

/** Every camera and screen share, mine included, with the active speaker outlined. */
export function VideoGrid({ room }: { room: Room }) {
  const people = room.state?.people ?? {};
  const nameOf = (id: string) => people[id]?.name ?? "Someone";
  const videos = room.tracks.filter((t) => t.source !== "microphone");
  const audios = room.tracks.filter((t) => t.source === "microphone");
  const mine = (["camera", "screen"] as const).map((source) => ({ source, track: room.local(source) })).filter((m) => m.track);
  return (
    <section class="grid" aria-label="Video">
      {mine.map(({ source, track }) => (
        <Tile key={`me-${source}`} track={track!} label={`You (${source})`} muted mirrored={source === "camera"} speaking={false} />
      ))}
      {videos.map((t) => (
        <Tile
          key={t.track.id}
          track={t.track}
          label={`${nameOf(t.participant)}${t.source === "screen" ? " (screen)" : ""}`}
          speaking={room.speaking === t.participant}
          participant={t.participant}
          source={t.source}
        />
      ))}
      {videos.length === 0 && mine.length === 0 && <p class="empty">Nobody is sharing video yet.</p>}
      {audios.map((t) => (
        <Sound key={t.track.id} track={t.track} />
      ))}
    </section>
  );
}

function Tile(props: {
  track: MediaStreamTrack;
  label: string;
  speaking: boolean;
  muted?: boolean;
  mirrored?: boolean;
  participant?: string;
  source?: string;
}) {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.srcObject = new MediaStream([props.track]);
  }, [props.track]);
  return (
    <figure
      class={`tile${props.speaking ? " speaking" : ""}${props.source === "screen" ? " screen" : ""}`}
      data-participant={props.participant}
      data-source={props.source}
    >
      <video ref={ref} autoplay playsInline muted={props.muted} class={props.mirrored ? "mirrored" : undefined} />
      <figcaption>
        {props.label}
        {props.speaking && " · speaking"}
      </figcaption>
    </figure>
  );
}

function Sound({ track }: { track: MediaStreamTrack }) {
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    if (ref.current) ref.current.srcObject = new MediaStream([track]);
  }, [track]);
  return <audio ref={ref} autoplay />;
}

/** What this browser receives, track by track (for "I can't hear them"): packets and bytes. */
export function ConnectionStats({ media, room }: { media: Media | null; room: Room }) {
  const [rows, setRows] = useState<{ id: string; kind: string; label: string; packets: number; kbits: number }[]>([]);
  useEffect(() => {
    if (!media) return;
    let last = new Map<string, number>();
    const timer = setInterval(async () => {
      const report = await media.pc.getStats();
      const next: typeof rows = [];
      const bytes = new Map<string, number>();
      report.forEach((s: any) => {
        if (s.type !== "inbound-rtp" || !s.trackIdentifier) return;
        const track = room.tracks.find((t: RemoteTrack) => t.track.id === s.trackIdentifier);
        const who = track ? `${room.state?.people[track.participant]?.name ?? "Someone"} ${track.source}` : s.kind;
        bytes.set(s.trackIdentifier, s.bytesReceived ?? 0);
        const kbits = ((s.bytesReceived ?? 0) - (last.get(s.trackIdentifier) ?? s.bytesReceived ?? 0)) * 8 / 1000 / 2;
        next.push({ id: s.trackIdentifier, kind: s.kind, label: who, packets: s.packetsReceived ?? 0, kbits: Math.max(0, Math.round(kbits)) });
      });
      last = bytes;
      setRows(next);
    }, 2000);
    return () => clearInterval(timer);
  }, [media, room.tracks, room.state?.people]);
  return (
    <details class="stats">
      <summary>Connection</summary>
      <table>
        <thead>
          <tr>
            <th scope="col">Receiving</th>
            <th scope="col">Packets</th>
            <th scope="col">kbit/s</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} data-track={r.id} data-kind={r.kind}>
              <td>{r.label}</td>
              <td class="packets">{r.packets}</td>
              <td>{r.kbits}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
