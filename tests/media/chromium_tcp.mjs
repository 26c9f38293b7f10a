// ICE over TCP with headless Chromium: the host and Ann drop the server's UDP candidates
// (as a network blocking UDP would leave them unusable), so ICE must succeed on the SFU's
// passive TCP candidate. Ann publishes a fake camera and microphone; the host measures
// what arrives over two seconds and which protocol each connection uses.
// Prints one JSON line; the Rust test (tests/api/media.rs) asserts on it.
//
//   node chromium_tcp.mjs BASE_URL SESSION HOST_TOKEN ANN_TOKEN

import { fileURLToPath } from "node:url";
import { launch } from "./chromium.mjs";

const [base, session, hostToken, annToken] = process.argv.slice(2);
const client = fileURLToPath(new URL("chromium_client.js", import.meta.url));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await launch();

async function open(name, token) {
  const page = await (await browser.newContext()).newPage();
  page.on("console", (m) => console.error(`[${name}] ${m.text()}`));
  await page.addInitScript({ path: client });
  await page.goto(`${base}/api/health`);
  const id = await page.evaluate(async ([session, token]) => {
    window.me = await Participant.join(session, token);
    me.tcpOnly = true;
    return me.id;
  }, [session, token]);
  return [page, id];
}

const out = {};
try {
  const [host] = await open("host", hostToken);
  const [ann, annId] = await open("ann", annToken);
  await host.evaluate(
    (id) => me.request({ type: "mod.set_role", participant: id, role: "presenter" }),
    annId,
  );
  await ann.evaluate((id) => me.event("role.changed", id), annId);
  await host.evaluate(() => me.request({ type: "media.join" }));
  await ann.evaluate(async () => {
    const camera = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: 320, height: 240, frameRate: 15 },
    });
    await me.publish([
      { track: camera.getAudioTracks()[0], source: "microphone" },
      { track: camera.getVideoTracks()[0], source: "camera" },
    ]);
  });
  // Wait for both tracks to flow, then count two seconds of them.
  const deadline = Date.now() + 20_000;
  let before;
  for (;;) {
    before = await host.evaluate(() => me.stats());
    const flowing = Object.values(before.received).filter((r) => r.packetsReceived > 0);
    if (flowing.length >= 2 || Date.now() > deadline) break;
    await sleep(100);
  }
  await sleep(2000);
  const after = await host.evaluate(() => me.stats());
  out.received = Object.entries(after.received).map(([track, r]) => ({
    track,
    kind: r.kind,
    packetsReceived: r.packetsReceived - (before.received[track]?.packetsReceived ?? 0),
    framesDecoded: r.framesDecoded - (before.received[track]?.framesDecoded ?? 0),
  }));
  out.protocols = {
    host: after.protocol,
    ann: (await ann.evaluate(() => me.stats())).protocol,
  };
  out.errors = [
    ...(await host.evaluate(() => me.errors)),
    ...(await ann.evaluate(() => me.errors)),
  ];
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
