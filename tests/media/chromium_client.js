// One Workbook participant inside a Chromium page, as a web client would be: `fetch` for
// the join, a WebSocket to the hub for the negotiation, one RTCPeerConnection for every
// track it sends and receives. Loaded into each page by chromium_peers.mjs; the page must
// come from the server's own origin (getUserMedia needs it, and the paths are relative).

class Participant {
  /** Joins `session` as the bearer `token` and waits for the hub's welcome. */
  static async join(session, token) {
    const response = await fetch(`/api/workbook/sessions/${session}/join`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{}",
    });
    if (!response.ok) throw new Error(`join: ${response.status} ${await response.text()}`);
    const joined = await response.json();
    const participant = new Participant(joined);
    await participant.connect(`ws://${location.host}/api/workbook/sessions/${session}/ws?ticket=${joined.ticket}`);
    return participant;
  }

  constructor(joined) {
    this.id = joined.participant.id;
    this.pc = new RTCPeerConnection({ iceServers: joined.iceServers });
    this.nextId = 0;
    this.waiting = new Map();
    /** Every `media.track` signal, by track id (the `msid` track of the receiver). */
    this.tracks = {};
    this.events = [];
    this.errors = [];
    /** `performance.now()` of each answer to a server offer. */
    this.answers = [];
    /** Negotiations run one after another. */
    this.chain = Promise.resolve();
    /** True from our offer until its answer: a server offer arriving then was dropped by
     *  the server (it yields on glare) and will come again. */
    this.offering = false;
    /** Our offers answered so far: a server offer that arrived during an earlier count is
     *  stale by the time its turn comes. */
    this.ownOffers = 0;
    /** Drops the server's UDP candidates, as a network that blocks UDP would make them
     *  useless: ICE must succeed over TCP. */
    this.tcpOnly = false;
  }

  /** The server's SDP as this network lets it be used. */
  remote(sdp) {
    if (!this.tcpOnly) return sdp;
    return sdp
      .split("\r\n")
      .filter((line) => !/^a=candidate:\S+ \d+ udp /i.test(line))
      .join("\r\n");
  }

  connect(url) {
    this.ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      this.ws.onerror = () => reject(new Error("hub socket failed"));
      this.ws.onclose = (e) => this.errors.push(`hub socket closed ${e.code}`);
      this.ws.onmessage = (message) => {
        const frame = JSON.parse(message.data);
        if (frame.type === "welcome") resolve();
        this.receive(frame);
      };
    });
  }

  receive(frame) {
    const waiting = this.waiting.get(frame.ref);
    if ((frame.type === "ack" || frame.type === "error") && waiting) {
      this.waiting.delete(frame.ref);
      if (frame.type === "ack") waiting.resolve(frame.result);
      else waiting.reject(new Error(JSON.stringify(frame)));
    } else if (frame.type === "media.offer") {
      // An offer that arrives before the answer to our own offer is stale: the server
      // dropped it when it took ours (docs/HUB_PROTOCOL.md, Media, 3).
      const round = this.ownOffers;
      if (!this.offering) {
        this.negotiate(() => (round === this.ownOffers ? this.answer(frame.sdp) : undefined));
      }
    } else if (frame.type === "signal" && frame.signal.kind === "media.track") {
      this.tracks[frame.signal.track] = frame.signal;
    } else if (frame.type === "event") {
      this.events.push(frame.event);
    }
  }

  /** Sends a hub message; resolves with the `ack`'s result. */
  request(message) {
    const id = ++this.nextId;
    this.ws.send(JSON.stringify({ ...message, id }));
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  negotiate(step) {
    const run = this.chain.then(step);
    this.chain = run.catch((e) => this.errors.push(String(e)));
    return run;
  }

  async answer(sdp) {
    await this.pc.setRemoteDescription({ type: "offer", sdp: this.remote(sdp) });
    await this.pc.setLocalDescription();
    this.answers.push(performance.now());
    await this.request({ type: "media.answer", sdp: this.pc.localDescription.sdp });
  }

  /** Publishes `[{track, source}]` with one offer declaring each m-line's source. */
  publish(sending) {
    return this.negotiate(async () => {
      this.offering = true;
      try {
        const added = sending.map(({ track, source }) => [
          this.pc.addTransceiver(track, { direction: "sendonly" }),
          source,
        ]);
        await this.pc.setLocalDescription();
        const tracks = Object.fromEntries(added.map(([t, source]) => [t.mid, source]));
        const result = await this.request({ type: "media.offer", sdp: this.pc.localDescription.sdp, tracks });
        this.ownOffers += 1;
        this.offering = false;
        await this.pc.setRemoteDescription({ type: "answer", sdp: this.remote(result.sdp) });
      } finally {
        this.offering = false;
      }
    });
  }

  /** Resolves once an event of `kind` naming `participant` has arrived. */
  async event(kind, participant) {
    const deadline = performance.now() + 10_000;
    while (!this.events.some((e) => e.kind === kind && e.participant === participant)) {
      if (performance.now() > deadline) throw new Error(`no ${kind} for ${participant}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Per received track (by its `msid` track id): kind and counters; the SRTP cipher; and
   *  the transport protocol of the candidate pair in use (`udp` or `tcp`). */
  async stats() {
    const report = await this.pc.getStats();
    const received = {};
    let cipher = null;
    let protocol = null;
    report.forEach((s) => {
      if (s.type === "transport" && s.selectedCandidatePairId) {
        const pair = report.get(s.selectedCandidatePairId);
        protocol = report.get(pair?.remoteCandidateId)?.protocol ?? null;
      }
      if (s.type === "inbound-rtp" && s.trackIdentifier) {
        received[s.trackIdentifier] = {
          kind: s.kind,
          packetsReceived: s.packetsReceived ?? 0,
          framesDecoded: s.framesDecoded ?? 0,
        };
      }
      if (s.type === "transport" && s.srtpCipher) cipher = s.srtpCipher;
    });
    return { received, cipher, protocol };
  }
}

window.Participant = Participant;
