// The session room's controller: joins the hub, keeps the room state from its frames, runs
// the media peer, and exposes what the page needs. One per open room page.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Hub, HubError, type Joined } from "./hub";
import { Media, type RemoteTrack, type Source } from "./media";
import { apply, fromSnapshot, withMyUpvote, withMyVote, type RoomState } from "./state";

export type Link = { state: "joining" | "lobby" | "live" | "reconnecting" | "closed"; reason?: string };

export interface Room {
  joined: Joined | null;
  me: string;
  capabilities: Set<string>;
  state: RoomState | null;
  link: Link;
  tracks: RemoteTrack[];
  speaking: string | null;
  typing: Record<string, number>;
  error: unknown;
  setError(err: unknown): void;
  /** A hub request: its `ack` result, or `undefined` after showing its failure in the room's
   *  banner (a dropped connection is shown by the link state instead). Never rejects. */
  send(message: { type: string } & Record<string, unknown>): Promise<any>;
  vote(poll: string, choices: number[]): Promise<void>;
  upvote(question: string): Promise<void>;
  toggle(source: Source, deviceId?: string): Promise<void>;
  local(source: Source): MediaStreamTrack | null;
  media: Media | null;
}

/** A little under the server's default grace, so a peer it may have closed is replaced. */
const MEDIA_GRACE_MS = 8000;

const MUTED_SOURCE: Record<string, Source> = { audio: "microphone", video: "camera", screen: "screen" };

/** The room of `sessionId`; `join` gets each ticket (default: the signed-in account's). */
export function useRoom(sessionId: string, join?: () => Promise<Joined>): Room {
  const [joined, setJoined] = useState<Joined | null>(null);
  const [state, setState] = useState<RoomState | null>(null);
  const [capabilities, setCapabilities] = useState<Set<string>>(new Set());
  const [link, setLink] = useState<Link>({ state: "joining" });
  const [tracks, setTracks] = useState<RemoteTrack[]>([]);
  const [speaking, setSpeaking] = useState<string | null>(null);
  const [typing, setTyping] = useState<Record<string, number>>({});
  const [error, setError] = useState<unknown>(null);
  const [, setLocalVersion] = useState(0);
  const hub = useRef<Hub | null>(null);
  const media = useRef<Media | null>(null);
  const me = useRef("");

  useEffect(() => {
    // Set when the join answers, which is before the hub's first frame arrives.
    let joinedNow: Joined | null = null;
    let droppedAt = 0;
    // A new peer, publishing what the old one sent (after an ICE failure or a long drop).
    const startMedia = (republish: { source: Source; track: MediaStreamTrack }[] = []) => {
      if (!joinedNow?.mediaUrl) return;
      const m: Media = new Media(h, joinedNow.iceServers, setTracks, setError, () => {
        if (media.current === m) startMedia(m.detach());
      });
      media.current = m;
      setTracks([]);
      void m.join();
      for (const { source, track } of republish) void m.publish(source, track);
    };
    const h = new Hub(sessionId, {
      welcome(frame) {
        setCapabilities(new Set(frame.capabilities));
        if (frame.lobby) return setLink({ state: "lobby" });
        if (frame.snapshot) setState(fromSnapshot(frame.snapshot));
        setLink({ state: "live" });
        // After a short drop the peer is still there (the server keeps it for
        // `media.reconnect_grace_secs`, 10 s by default); after a longer one it is gone.
        if (!media.current) startMedia();
        else if (droppedAt && Date.now() - droppedAt > MEDIA_GRACE_MS) startMedia(media.current.detach());
        droppedAt = 0;
      },
      event(seq, at, event) {
        setState((s) => s && apply(s, seq, at, event));
        if (event.participant !== me.current) return;
        if (event.kind === "role.changed") setCapabilities(new Set(event.capabilities));
        if (event.kind === "mod.mute_requested") void stopLocal(MUTED_SOURCE[event.media as string]);
      },
      snapshot(snapshot) {
        setState(fromSnapshot(snapshot));
      },
      signal(signal) {
        if (signal.kind === "media.track") media.current?.trackSignal(signal as any);
        else if (signal.kind === "media.speaking") setSpeaking(signal.participant);
        else if (signal.kind === "chat.typing") setTyping((t) => ({ ...t, [signal.participant]: Date.now() }));
      },
      mediaOffer(sdp) {
        media.current?.serverOffer(sdp);
      },
      closed(reason, final) {
        droppedAt = Date.now();
        setLink({ state: final ? "closed" : "reconnecting", reason });
        if (final) {
          media.current?.close();
          media.current = null;
        }
      },
    }, join);
    hub.current = h;
    // The server already stopped forwarding it; stop capturing too, and say so.
    const stopLocal = async (source: Source | undefined) => {
      const m = media.current;
      if (!source || !m?.local(source)) return;
      await m.unpublish(source);
      const flags = { mic: !!m.local("microphone"), camera: !!m.local("camera"), screen: !!m.local("screen") };
      await h.request({ type: "media.state", ...flags }).catch(() => {});
      setLocalVersion((v) => v + 1);
      setError(new HubError("muted", `A moderator turned off your ${source}.`));
    };
    h.connect()
      .then((j) => {
        joinedNow = j;
        me.current = j.participant.id;
        setJoined(j);
      })
      .catch((err) => {
        setError(err);
        setLink({ state: "closed", reason: "Could not join the session." });
      });
    return () => {
      h.close();
      media.current?.close();
      media.current = null;
    };
  }, [sessionId]);

  return useMemo<Room>(
    () => ({
      joined,
      me: me.current,
      capabilities,
      state,
      link,
      tracks,
      speaking,
      typing,
      error,
      setError,
      media: media.current,
      async send(message) {
        try {
          return await hub.current!.request(message);
        } catch (err) {
          if (!(err instanceof HubError && err.code === "offline")) setError(err);
          return undefined;
        }
      },
      async vote(poll, choices) {
        if (await this.send({ type: "poll.vote", poll, choices })) setState((s) => s && withMyVote(s, poll, choices));
      },
      async upvote(question) {
        if (await this.send({ type: "qa.upvote", question })) setState((s) => s && withMyUpvote(s, question));
      },
      async toggle(source, deviceId) {
        const m = media.current;
        if (!m) return setError(new HubError("unavailable", "Media is not available in this session."));
        try {
          if (m.local(source) && !deviceId) {
            await m.unpublish(source);
          } else {
            await m.publish(source, await capture(source, deviceId));
          }
          const flags = { mic: !!m.local("microphone"), camera: !!m.local("camera"), screen: !!m.local("screen") };
          await hub.current!.request({ type: "media.state", ...flags });
          setLocalVersion((v) => v + 1);
        } catch (err) {
          setError(err);
        }
      },
      local(source) {
        return media.current?.local(source) ?? null;
      },
    }),
    [joined, capabilities, state, link, tracks, speaking, typing, error],
  );
}

async function capture(source: Source, deviceId?: string): Promise<MediaStreamTrack> {
  if (source === "screen") {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    return stream.getVideoTracks()[0];
  }
  const constraints = deviceId ? { deviceId: { exact: deviceId } } : true;
  const stream = await navigator.mediaDevices.getUserMedia(source === "microphone" ? { audio: constraints } : { video: constraints });
  return stream.getTracks()[0];
}
