import { useEffect, useState } from "preact/hooks";
import type { Source } from "./media";
import type { Room } from "./useroom";

const LABEL: Record<Source, [string, string]> = {
  microphone: ["Unmute microphone", "Mute microphone"],
  camera: ["Start camera", "Stop camera"],
  screen: ["Share screen", "Stop sharing"],
};
const NEEDS: Record<Source, string> = { microphone: "publish_audio", camera: "publish_video", screen: "publish_screen" };

/** Microphone, camera and screen, with device choice; shown only where the role may publish. */
export function MediaControls({ room }: { room: Room }) {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  useEffect(() => {
    const load = () => navigator.mediaDevices?.enumerateDevices().then(setDevices).catch(() => {});
    load();
    navigator.mediaDevices?.addEventListener("devicechange", load);
    return () => navigator.mediaDevices?.removeEventListener("devicechange", load);
  }, [room.local("microphone"), room.local("camera")]);
  const sources = (Object.keys(LABEL) as Source[]).filter((s) => room.capabilities.has(NEEDS[s]));
  if (!room.media) return <p class="meta">Media is off on this server: chat, polls and Q&A still work.</p>;
  if (sources.length === 0) return <p class="meta">You are watching. The host can invite you to present.</p>;
  return (
    <div class="actions controls" role="group" aria-label="Your media">
      {sources.map((source) => {
        const on = !!room.local(source);
        const kind = source === "microphone" ? "audioinput" : "videoinput";
        const choices = devices.filter((d) => d.kind === kind && d.deviceId);
        return (
          <span key={source} class="control">
            <button type="button" aria-pressed={on} class={on ? "on" : undefined} onClick={() => void room.toggle(source)}>
              {LABEL[source][on ? 1 : 0]}
            </button>
            {source !== "screen" && choices.length > 1 && (
              <select
                aria-label={source === "microphone" ? "Microphone device" : "Camera device"}
                onChange={(e) => void room.toggle(source, e.currentTarget.value)}
              >
                {choices.map((d, i) => (
                  <option key={d.deviceId} value={d.deviceId}>
                    {d.label || `${source} ${i + 1}`}
                  </option>
                ))}
              </select>
            )}
          </span>
        );
      })}
    </div>
  );
}
