"""Two aiortc peers through Workbook's SFU, negotiated over the hub socket.

Ann publishes a 440 Hz tone; the host receives it, measures its dominant frequency, then
mutes Ann's microphone on the server (packets must stop), lets her switch it on again
(packets must resume), and removes her (her peer must close). Prints one JSON line of
measurements; the Rust test (tests/api/media.rs) asserts on them.

    python aiortc_peers.py HOST_WS_URL ANN_WS_URL ANN_ID HEALTH_URL
"""

import asyncio
import fractions
import json
import sys
import time
import urllib.request

import aioice.ice
import av
import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from websockets.asyncio.client import connect

# aioice skips loopback; the server announces 127.0.0.1 (TESTING.md).
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

RATE = 48_000
TONE_HZ = 440


class Tone(MediaStreamTrack):
    """A sine wave in 20 ms frames, paced in real time."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self.pts = 0
        self.start = None

    async def recv(self):
        samples = RATE // 50
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.pts / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (np.arange(samples) + self.pts) / RATE
        pcm = (0.5 * 32767 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, RATE)
        self.pts += samples
        return frame


class Hub:
    """One hub WebSocket: requests answered by `ref`, everything else in a queue."""

    def __init__(self, ws):
        self.ws = ws
        self.next_id = 0
        self.waiting = {}
        self.frames = asyncio.Queue()
        self.reader = asyncio.create_task(self.read())
        self.close_code = None

    async def read(self):
        try:
            async for text in self.ws:
                frame = json.loads(text)
                ref = frame.get("ref")
                if frame["type"] in ("ack", "error") and ref in self.waiting:
                    self.waiting.pop(ref).set_result(frame)
                else:
                    await self.frames.put(frame)
        finally:
            self.close_code = self.ws.close_code

    async def request(self, message):
        self.next_id += 1
        message["id"] = self.next_id
        answer = asyncio.get_running_loop().create_future()
        self.waiting[self.next_id] = answer
        await self.ws.send(json.dumps(message))
        frame = await asyncio.wait_for(answer, 10)
        if frame["type"] != "ack":
            raise RuntimeError(f"{message['type']} refused: {frame}")
        return frame.get("result")

    async def next(self, predicate, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            frame = await asyncio.wait_for(self.frames.get(), max(left, 0.01))
            if predicate(frame):
                return frame


def is_event(kind):
    return lambda f: f["type"] == "event" and f["event"]["kind"] == kind


def is_signal(kind):
    return lambda f: f["type"] == "signal" and f["signal"]["kind"] == kind


class Received:
    """Every audio frame the host decodes, with its arrival time."""

    def __init__(self):
        self.arrivals = []
        self.pcm = []

    async def drain(self, track):
        while True:
            try:
                frame = await track.recv()
            except Exception:
                return
            self.arrivals.append(time.monotonic())
            pcm = frame.to_ndarray().reshape(-1)
            channels = len(frame.layout.channels)
            self.pcm.append(pcm[::channels].astype(np.float64))

    def count_between(self, start, end):
        return sum(1 for t in self.arrivals if start <= t < end)


def dominant_hz(pcm):
    window = pcm * np.hanning(len(pcm))
    spectrum = np.abs(np.fft.rfft(window))
    return float(np.argmax(spectrum) * RATE / len(pcm))


def media_peers(health_url):
    with urllib.request.urlopen(health_url, timeout=5) as response:
        return json.load(response)["media"]["peers"]


async def main(host_url, ann_url, ann_id, health_url):
    out = {}
    host = Hub(await connect(host_url))
    ann = Hub(await connect(ann_url))
    await host.next(lambda f: f["type"] == "welcome")
    await ann.next(lambda f: f["type"] == "welcome")

    # Ann may publish once the host makes her a presenter.
    await host.request({"type": "mod.set_role", "participant": ann_id, "role": "presenter"})
    await ann.next(is_event("role.changed"))

    # The host receives only: its peer exists before Ann publishes, so her track arrives
    # through a server offer (renegotiation).
    received = Received()
    host_pc = RTCPeerConnection()

    @host_pc.on("track")
    def on_track(track):
        asyncio.ensure_future(received.drain(track))

    await host.request({"type": "media.join"})

    ann_pc = RTCPeerConnection()
    ann_pc.addTrack(Tone())
    await ann_pc.setLocalDescription(await ann_pc.createOffer())
    mid = ann_pc.getTransceivers()[0].mid
    published_at = time.monotonic()
    result = await ann.request(
        {"type": "media.offer", "sdp": ann_pc.localDescription.sdp, "tracks": {mid: "microphone"}}
    )
    await ann_pc.setRemoteDescription(RTCSessionDescription(result["sdp"], "answer"))

    track = await host.next(is_signal("media.track"))
    out["track_signal"] = track["signal"]
    offer = await host.next(lambda f: f["type"] == "media.offer")
    await host_pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
    await host_pc.setLocalDescription(await host_pc.createAnswer())
    await host.request({"type": "media.answer", "sdp": host_pc.localDescription.sdp})
    out["host_sdp_msid"] = [l for l in host_pc.remoteDescription.sdp.splitlines() if l.startswith("a=msid:")]

    for _ in range(200):
        if received.arrivals:
            break
        await asyncio.sleep(0.05)
    out["first_audio_ms"] = (received.arrivals[0] - published_at) * 1000 if received.arrivals else None
    await asyncio.sleep(3)
    # Skip the first half second (codec start-up), analyse what follows.
    samples = np.concatenate(received.pcm[25:]) if len(received.pcm) > 50 else np.zeros(1)
    out["analysed_samples"] = int(len(samples))
    out["dominant_hz"] = dominant_hz(samples) if len(samples) > 1 else None

    # A moderator's mute stops the packets at the server.
    await host.request({"type": "mod.mute_request", "participant": ann_id, "media": "audio"})
    muted_at = time.monotonic()
    await asyncio.sleep(3)
    out["frames_in_second_before_mute"] = received.count_between(muted_at - 1, muted_at)
    out["frames_1s_to_3s_after_mute"] = received.count_between(muted_at + 1, muted_at + 3)

    # Ann switches her microphone on again: forwarded again.
    await ann.request({"type": "media.state", "mic": True})
    unmuted_at = time.monotonic()
    await asyncio.sleep(2)
    out["frames_1s_to_2s_after_unmute"] = received.count_between(unmuted_at + 1, unmuted_at + 2)

    # Removing Ann closes her hub socket and her peer.
    out["peers_before_remove"] = media_peers(health_url)
    await host.request({"type": "mod.remove", "participant": ann_id})
    removed_at = time.monotonic()
    peers = out["peers_before_remove"]
    while peers != 1 and time.monotonic() - removed_at < 5:
        await asyncio.sleep(0.05)
        peers = media_peers(health_url)
    out["peers_after_remove"] = peers
    out["peer_closed_ms"] = (time.monotonic() - removed_at) * 1000
    await asyncio.sleep(0.2)
    out["ann_close_code"] = ann.close_code

    await ann_pc.close()
    await host_pc.close()
    await host.ws.close()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
