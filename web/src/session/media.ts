// This participant's WebRTC side: one RTCPeerConnection to the SFU, negotiated over the hub
// socket (HUB_PROTOCOL.md, Media). It publishes the local microphone, camera and screen,
// answers the server's offers, and reports each remote track with its publisher and source.

import type { Hub } from "./hub";

export type Source = "microphone" | "camera" | "screen";

export interface RemoteTrack {
  participant: string;
  source: Source;
  track: MediaStreamTrack;
}

export class Media {
  readonly pc: RTCPeerConnection;
  /** The `media.track` signals by track id (`t3`): who publishes it, which source. */
  private readonly announced = new Map<string, { participant: string; source: Source; live: boolean }>();
  /** Received tracks by track id, until their signal names them. */
  private readonly received = new Map<string, MediaStreamTrack>();
  private readonly sending = new Map<Source, RTCRtpTransceiver>();
  private chain: Promise<unknown> = Promise.resolve();
  private offering = false;
  private ownOffers = 0;

  constructor(
    private readonly hub: Hub,
    iceServers: RTCIceServer[],
    private readonly onTracks: (tracks: RemoteTrack[]) => void,
    private readonly onError: (err: unknown) => void,
    onFailed: () => void,
  ) {
    this.pc = new RTCPeerConnection({ iceServers });
    // ICE or DTLS gave up (or the server closed the peer after a long drop): the caller
    // starts a new peer and publishes the same tracks on it.
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === "failed") onFailed();
    };
    this.pc.ontrack = (e) => {
      this.received.set(e.track.id, e.track);
      e.track.onended = () => this.changed();
      this.changed();
    };
  }

  /** Opens a receive-only peer (nothing published yet). */
  join() {
    return this.negotiate(() => this.hub.request({ type: "media.join" }));
  }

  /** A server offer: answered in turn, unless it crossed our own offer (then it is stale). */
  serverOffer(sdp: string) {
    if (this.offering) return;
    const round = this.ownOffers;
    void this.negotiate(async () => {
      if (round !== this.ownOffers) return;
      await this.pc.setRemoteDescription({ type: "offer", sdp });
      await this.pc.setLocalDescription();
      await this.hub.request({ type: "media.answer", sdp: this.pc.localDescription!.sdp });
    });
  }

  trackSignal(signal: { participant: string; track: string; source: Source; live: boolean }) {
    this.announced.set(signal.track, { participant: signal.participant, source: signal.source, live: signal.live });
    this.changed();
  }

  /** Starts sending `track` as `source` (replacing what that source sent before). */
  publish(source: Source, track: MediaStreamTrack) {
    return this.negotiate(async () => {
      const existing = this.sending.get(source);
      if (existing) {
        // A device switch: the old capture stops (its camera light goes off).
        const previous = existing.sender.track;
        await existing.sender.replaceTrack(track);
        if (previous && previous !== track) previous.stop();
        existing.direction = "sendonly";
        if (existing.currentDirection === "sendonly") return;
      } else {
        this.sending.set(source, this.pc.addTransceiver(track, { direction: "sendonly" }));
      }
      await this.offer();
    });
  }

  /** Stops sending `source`; the m-line stays (inactive) for a later restart. */
  unpublish(source: Source) {
    return this.negotiate(async () => {
      const transceiver = this.sending.get(source);
      if (!transceiver) return;
      transceiver.sender.track?.stop();
      await transceiver.sender.replaceTrack(null);
      transceiver.direction = "inactive";
      await this.offer();
    });
  }

  /** The local track sending `source`, if any. */
  local(source: Source): MediaStreamTrack | null {
    const transceiver = this.sending.get(source);
    return transceiver?.direction === "sendonly" ? transceiver.sender.track : null;
  }

  close() {
    for (const t of this.sending.values()) t.sender.track?.stop();
    this.pc.close();
  }

  /** Closes the peer but keeps the local tracks, returned for a new peer to publish. */
  detach(): { source: Source; track: MediaStreamTrack }[] {
    const kept: { source: Source; track: MediaStreamTrack }[] = [];
    for (const source of this.sending.keys()) {
      const track = this.local(source);
      if (track) kept.push({ source, track });
    }
    this.pc.onconnectionstatechange = null;
    this.pc.close();
    return kept;
  }

  private async offer() {
    this.offering = true;
    try {
      await this.pc.setLocalDescription();
      const tracks: Record<string, Source> = {};
      for (const [source, t] of this.sending) if (t.direction === "sendonly" && t.mid) tracks[t.mid] = source;
      const result = await this.hub.request<{ sdp: string }>({ type: "media.offer", sdp: this.pc.localDescription!.sdp, tracks });
      this.ownOffers += 1;
      this.offering = false;
      await this.pc.setRemoteDescription({ type: "answer", sdp: result.sdp });
    } finally {
      this.offering = false;
    }
  }

  private negotiate(step: () => Promise<unknown>) {
    const run = this.chain.then(step);
    this.chain = run.catch((err) => this.onError(err));
    return run;
  }

  private changed() {
    const tracks: RemoteTrack[] = [];
    for (const [id, track] of this.received) {
      const signal = this.announced.get(id);
      if (signal?.live && track.readyState === "live") tracks.push({ participant: signal.participant, source: signal.source, track });
    }
    this.onTracks(tracks);
  }
}
