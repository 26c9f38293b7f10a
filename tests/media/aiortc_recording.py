"""Two aiortc speakers recorded through Workbook's SFU, driven over the hub socket.

Ann and Bob are made presenters and publish their microphones (silence at first). The host
starts the recording; every participant must get `recording.started` with the consent
notice. Ann then says her sentence, and after a pause Bob says his (WAV files, 48 kHz mono,
played in real time). The host pauses, resumes and stops the recording. Ann, who lacks the
recording capability, is refused when she tries to start one.

Prints one JSON line: when each spoke, in seconds after the recording started (the host's
ack), and what the hub said; the Rust test (tests/api/recording.rs) checks the files,
the manifest and the transcript against it.

    python aiortc_recording.py HOST_WS ANN_WS BOB_WS ANN_ID BOB_ID ANN_WAV BOB_WAV

With `hold` first, Ann alone says her sentence over and over while the host records; the
script prints `{"recording": true}` once the recording started and then holds everything
open until it is killed (tests/api/recording_crash.rs kills the server meanwhile):

    python aiortc_recording.py hold HOST_WS ANN_WS ANN_ID ANN_WAV
"""

import asyncio
import fractions
import json
import sys
import time
import wave

import aioice.ice
import av
import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from websockets.asyncio.client import connect

from aiortc_peers import Hub, is_event, is_signal

# aioice skips loopback; the server announces 127.0.0.1 (TESTING.md).
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

RATE = 48_000
FRAME = RATE // 50


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1 and w.getsampwidth() == 2
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)


class Speaker(MediaStreamTrack):
    """Silence, and a WAV's samples from the moment `say` is called; paced in real time."""

    kind = "audio"

    def __init__(self, speech):
        super().__init__()
        self.speech = speech
        self.pts = 0
        self.start = None
        self.say_from = None  # pts at which the speech starts
        self.repeat = False

    def say(self, repeat=False):
        self.say_from = self.pts
        self.repeat = repeat
        return len(self.speech) / RATE

    async def recv(self):
        if self.start is None:
            self.start = time.monotonic()
        wait = self.start + self.pts / RATE - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        pcm = np.zeros(FRAME, dtype=np.int16)
        if self.say_from is not None:
            at = self.pts - self.say_from
            if self.repeat:
                at %= len(self.speech) + RATE  # a second of silence between repeats
            part = self.speech[max(at, 0) : max(at + FRAME, 0)]
            pcm[: len(part)] = part
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, RATE)
        self.pts += FRAME
        return frame


async def publish(hub, track):
    pc = RTCPeerConnection()
    pc.addTrack(track)
    await pc.setLocalDescription(await pc.createOffer())
    mid = pc.getTransceivers()[0].mid
    result = await hub.request(
        {"type": "media.offer", "sdp": pc.localDescription.sdp, "tracks": {mid: "microphone"}}
    )
    await pc.setRemoteDescription(RTCSessionDescription(result["sdp"], "answer"))
    return pc


async def main(host_url, ann_url, bob_url, ann_id, bob_id, ann_wav, bob_wav):
    out = {}
    host = Hub(await connect(host_url))
    ann = Hub(await connect(ann_url))
    bob = Hub(await connect(bob_url))
    for hub in (host, ann, bob):
        await hub.next(lambda f: f["type"] == "welcome")
    for participant in (ann_id, bob_id):
        await host.request({"type": "mod.set_role", "participant": participant, "role": "presenter"})
    await ann.next(is_event("role.changed"))
    await bob.next(is_event("role.changed"))

    # Without the capability, no recording.
    try:
        await ann.request({"type": "recording.start"})
        out["ann_start"] = "accepted"
    except RuntimeError as refused:
        out["ann_start"] = str(refused)

    ann_voice, bob_voice = Speaker(read_wav(ann_wav)), Speaker(read_wav(bob_wav))
    ann_pc = await publish(ann, ann_voice)
    bob_pc = await publish(bob, bob_voice)
    # Both tracks are live at the SFU before the recording starts.
    for _ in range(2):
        await host.next(is_signal("media.track"), timeout=15)

    await host.request({"type": "recording.start"})
    started = time.monotonic()
    notices = []
    for hub in (host, ann, bob):
        event = await hub.next(is_event("recording.started"))
        notices.append(event["event"].get("notice"))
    out["notices"] = notices

    await asyncio.sleep(1.0)
    out["ann_at"] = time.monotonic() - started
    ann_len = ann_voice.say()
    await asyncio.sleep(ann_len + 1.5)
    out["bob_at"] = time.monotonic() - started
    bob_len = bob_voice.say()
    await asyncio.sleep(bob_len + 1.0)

    await host.request({"type": "recording.pause"})
    out["paused"] = (await bob.next(is_event("recording.paused")))["event"]["kind"]
    await asyncio.sleep(1.0)
    await host.request({"type": "recording.resume"})
    out["resumed"] = (await bob.next(is_event("recording.resumed")))["event"]["kind"]
    await asyncio.sleep(1.0)
    await host.request({"type": "recording.stop"})
    out["stopped_at"] = time.monotonic() - started
    out["stopped"] = (await ann.next(is_event("recording.stopped")))["event"]["kind"]

    await ann_pc.close()
    await bob_pc.close()
    for hub in (host, ann, bob):
        await hub.ws.close()
    print(json.dumps(out), flush=True)


async def hold(host_url, ann_url, ann_id, ann_wav):
    host = Hub(await connect(host_url))
    ann = Hub(await connect(ann_url))
    for hub in (host, ann):
        await hub.next(lambda f: f["type"] == "welcome")
    await host.request({"type": "mod.set_role", "participant": ann_id, "role": "presenter"})
    await ann.next(is_event("role.changed"))
    voice = Speaker(read_wav(ann_wav))
    voice.say(repeat=True)
    pc = await publish(ann, voice)
    await host.next(is_signal("media.track"), timeout=15)
    await host.request({"type": "recording.start"})
    print(json.dumps({"recording": True}), flush=True)
    await asyncio.sleep(120)
    await pc.close()


if __name__ == "__main__":
    if sys.argv[1] == "hold":
        asyncio.run(hold(*sys.argv[2:6]))
    else:
        asyncio.run(main(*sys.argv[1:8]))
