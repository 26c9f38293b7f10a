import { useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { ChatPanel } from "../session/chat";
import { MediaControls } from "../session/controls";
import { PeoplePanel } from "../session/people";
import { PollsPanel } from "../session/polls";
import { QaPanel } from "../session/qa";
import type { Joined } from "../session/hub";
import { useRoom, type Room } from "../session/useroom";
import { ConnectionStats, VideoGrid } from "../session/video";
import { ErrorBanner, Loading, Notice } from "../ui/feedback";

const TABS = { chat: "Chat", polls: "Polls", qa: "Q&A", people: "People" } as const;
type Tab = keyof typeof TABS;

/** The live session: video, media controls, chat, polls, Q&A, hands, and the host's controls. */
export function RoomPage({ id, join }: { id: string; join?: () => Promise<Joined> }) {
  const room = useRoom(id, join);
  const [tab, setTab] = useState<Tab>("chat");
  const { state, link, joined } = room;

  if (link.state === "closed") {
    return (
      <section>
        <h1>{joined?.session.title ?? "Session"}</h1>
        <ErrorBanner error={room.error} />
        <Notice>{link.reason}</Notice>
        <p class="actions">
          <Link href="/sessions">Back to sessions</Link>
          <Link href={`/sessions/${id}/recordings`}>This session's recordings</Link>
        </p>
      </section>
    );
  }
  if (link.state === "lobby") {
    return (
      <section>
        <h1>{joined?.session.title}</h1>
        <Notice>You are in the lobby: the host will let you in shortly.</Notice>
      </section>
    );
  }
  if (!state || !joined) return <Loading label="Joining the session" />;
  return (
    <section class="room">
      <header class="room-head">
        <h1>{joined.session.title}</h1>
        {state.recording && (
          <span class="rec" role="status">
            ● {state.recording.paused ? "Recording paused" : "Recording"}
          </span>
        )}
        {state.locked && <span class="badge">Locked</span>}
        {link.state === "reconnecting" && <span role="status">{link.reason}</span>}
      </header>
      {state.recording?.notice && <Notice>{state.recording.notice}</Notice>}
      <ErrorBanner error={room.error} />
      <div class="room-body">
        <div class="stage">
          <VideoGrid room={room} />
          <MediaControls room={room} />
          <HostControls room={room} />
          <ConnectionStats media={room.media} room={room} />
        </div>
        <aside class="side">
          <div role="tablist" aria-label="Session panels" class="tabs">
            {(Object.keys(TABS) as Tab[]).map((t) => (
              <button
                type="button"
                role="tab"
                key={t}
                id={`tab-${t}`}
                aria-selected={tab === t}
                aria-controls={`panel-${t}`}
                onClick={() => setTab(t)}
              >
                {TABS[t]}
                {t === "people" && state.hands.length > 0 && ` (${state.hands.length} hands)`}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
            <h2 class="visually-hidden">{TABS[tab]}</h2>
            {tab === "chat" && <ChatPanel room={room} />}
            {tab === "polls" && <PollsPanel room={room} />}
            {tab === "qa" && <QaPanel room={room} />}
            {tab === "people" && <PeoplePanel room={room} />}
          </div>
        </aside>
      </div>
    </section>
  );
}

function HostControls({ room }: { room: Room }) {
  const state = room.state!;
  const admin = room.capabilities.has("admin_room");
  const record = room.capabilities.has("control_recording");
  if (!admin && !record) return null;
  const recording = state.recording;
  return (
    <div class="actions" role="group" aria-label="Host controls">
      {admin && (
        <button type="button" onClick={() => void room.send({ type: "mod.lock", locked: !state.locked })}>
          {state.locked ? "Unlock session" : "Lock session"}
        </button>
      )}
      {admin && (
        <button type="button" onClick={() => void room.send({ type: "chat.lock", locked: !state.chatLocked })}>
          {state.chatLocked ? "Unlock chat" : "Lock chat"}
        </button>
      )}
      {record && !recording && (
        <button type="button" onClick={() => void room.send({ type: "recording.start" })}>
          Start recording
        </button>
      )}
      {record && recording && (
        <>
          <button type="button" onClick={() => void room.send({ type: recording.paused ? "recording.resume" : "recording.pause" })}>
            {recording.paused ? "Resume recording" : "Pause recording"}
          </button>
          <button type="button" onClick={() => void room.send({ type: "recording.stop" })}>
            Stop recording
          </button>
        </>
      )}
      {admin && (
        <button
          type="button"
          class="danger"
          onClick={() => confirm("End the session for everyone?") && void room.send({ type: "session.end" })}
        >
          End session
        </button>
      )}
    </div>
  );
}
