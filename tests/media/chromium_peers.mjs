// Headless Chromium participants through Workbook's SFU, negotiated over the hub socket
// from page JavaScript (chromium_client.js).
//
// The host, Ann and Bob publish a fake camera and microphone; Ann also shares a (fake)
// screen. Each measures what it receives from the others over two seconds. Then Carol joins
// late, receive-only, and times her first decoded frame of each video after her answer.
// The host records from when everything flows until Carol is done (the Rust test probes
// the files). Prints one JSON line of measurements; the Rust test (tests/api/media.rs) asserts on them.
//
//   node chromium_peers.mjs BASE_URL SESSION HOST_TOKEN ANN_TOKEN BOB_TOKEN CAROL_TOKEN

import { fileURLToPath } from "node:url";
import { launch } from "./chromium.mjs";

const [base, session, ...tokens] = process.argv.slice(2);
const client = fileURLToPath(new URL("chromium_client.js", import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await launch();

/** A page of its own for one participant, joined and welcomed; returns [page, id]. */
async function open(name, token) {
  const page = await (await browser.newContext()).newPage();
  page.on("console", (m) => console.error(`[${name}] ${m.text()}`));
  page.on("pageerror", (e) => console.error(`[${name}] ${e}`));
  await page.addInitScript({ path: client });
  await page.goto(`${base}/api/health`);
  const id = await page.evaluate(
    async ([session, token]) => (window.me = await Participant.join(session, token)).id,
    [session, token],
  );
  return [page, id];
}

/** Publishes camera and microphone (and a screen share when `screen`). */
function publish(page, screen) {
  return page.evaluate(async (screen) => {
    const camera = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: 320, height: 240, frameRate: 15 },
    });
    const sending = [
      { track: camera.getAudioTracks()[0], source: "microphone" },
      { track: camera.getVideoTracks()[0], source: "camera" },
    ];
    if (screen) {
      const display = await navigator.mediaDevices.getDisplayMedia({
        video: { width: 640, height: 360, frameRate: 10 },
      });
      sending.push({ track: display.getVideoTracks()[0], source: "screen" });
    }
    await me.publish(sending);
  }, screen);
}

const stats = (page) => page.evaluate(() => me.stats());

/** Waits until `page` receives `count` tracks that all have packets (and video frames). */
async function receiving(page, count) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { received } = await stats(page);
    const flowing = Object.values(received).filter(
      (r) => r.packetsReceived > 0 && (r.kind === "audio" || r.framesDecoded > 0),
    );
    if (flowing.length >= count || Date.now() > deadline) return;
    await sleep(100);
  }
}

/** What one participant received in a window: per track, its announcement and counters. */
async function measure(page, before) {
  const after = await stats(page);
  const { tracks, errors } = await page.evaluate(() => ({ tracks: me.tracks, errors: me.errors }));
  const received = Object.entries(after.received).map(([track, r]) => ({
    track,
    participant: tracks[track]?.participant ?? null,
    source: tracks[track]?.source ?? null,
    kind: r.kind,
    packetsReceived: r.packetsReceived - (before.received[track]?.packetsReceived ?? 0),
    framesDecoded: r.framesDecoded - (before.received[track]?.framesDecoded ?? 0),
  }));
  return { cipher: after.cipher, received, errors };
}

const out = { ids: {} };
try {
  const names = ["host", "ann", "bob"];
  const pages = {};
  for (const [i, name] of names.entries()) {
    [pages[name], out.ids[name]] = await open(name, tokens[i]);
  }

  // Ann and Bob may publish once the host makes them presenters.
  for (const name of ["ann", "bob"]) {
    await pages.host.evaluate(
      (id) => me.request({ type: "mod.set_role", participant: id, role: "presenter" }),
      out.ids[name],
    );
    await pages[name].evaluate((id) => me.event("role.changed", id), out.ids[name]);
  }

  await Promise.all(names.map((name) => publish(pages[name], name === "ann")));
  const published = Date.now();

  // Host and Bob receive 5 tracks (Ann's three, the other's two), Ann receives 4.
  await Promise.all(names.map((name) => receiving(pages[name], name === "ann" ? 4 : 5)));
  await pages.host.evaluate(() => me.request({ type: "recording.start" }));
  const recordingStarted = Date.now();
  const before = {};
  for (const name of names) before[name] = await stats(pages[name]);
  await sleep(2000);
  out.participants = {};
  for (const name of names) out.participants[name] = await measure(pages[name], before[name]);

  // Carol joins after the publishers have been sending for a few seconds.
  await sleep(Math.max(0, published + 4000 - Date.now()));
  let carol;
  [carol, out.ids.carol] = await open("carol", tokens[3]);
  // Carol receives Ann's camera and screen and the host's and Bob's cameras: four videos.
  out.late = await carol.evaluate(async () => {
    // When ICE and DTLS are done: the part of the wait that is not the keyframe's.
    let connected = null;
    me.pc.addEventListener("connectionstatechange", () => {
      if (me.pc.connectionState === "connected") connected = performance.now();
    });
    await me.request({ type: "media.join" });
    const deadline = performance.now() + 10_000;
    const first = {};
    // Every 10 ms: the first instant each video track has a decoded frame.
    while (Object.keys(first).length < 4 && performance.now() < deadline) {
      const { received } = await me.stats();
      for (const [track, r] of Object.entries(received)) {
        if (r.kind === "video" && r.framesDecoded > 0 && !(track in first)) first[track] = performance.now();
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    // Timed from her first answer (one server offer normally brings every track).
    return {
      answers: me.answers.length,
      connected_ms: connected - me.answers[0],
      videos: Object.entries(first).map(([track, at]) => ({
        track,
        participant: me.tracks[track]?.participant ?? null,
        source: me.tracks[track]?.source ?? null,
        first_frame_ms: at - me.answers[0],
      })),
      errors: me.errors,
    };
  });
  await pages.host.evaluate(() => me.request({ type: "recording.stop" }));
  out.recorded_ms = Date.now() - recordingStarted;
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
