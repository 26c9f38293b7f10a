// The session room end to end in headless Chromium (driven from tests/api/browser.rs): Ada
// hosts, Bob joins from the sessions page, Carol (no account) as a guest from an invite
// link. Media crosses the SFU (Ada's camera and microphone reach both; Bob, promoted to
// presenter, shares his screen), chat, a poll, an upvoted question and a raised hand
// round-trip, and Ada's mute stops Bob's audio. The
// session is recorded (every fake microphone speaks the same sentence): afterwards the
// recording's transcript names its speakers and a click on a line plays it from there.
//
//   node session.mjs '{"base": "...", "people": {...}, "artifacts": "..."}'
//
// Prints one JSON line of findings; exits non-zero on the first failed expectation.
import { axe, check, launch, person, screenshots, signIn, sleep, waitFor } from "./lib.mjs";

const config = JSON.parse(process.argv[2]);
const { base, people, artifacts, wav, spoken } = config;
const findings = { axe: {}, screenshots: [] };
const browser = await launch(wav);

/** Packets received so far of `source` from `name`, from the room's Connection table. */
async function packets(who, name, source) {
  return who.page.evaluate(
    ([label]) => {
      const row = [...document.querySelectorAll(".stats tbody tr")].find((r) => r.cells[0].textContent === label);
      return row ? Number(row.querySelector(".packets").textContent) : -1;
    },
    [`${name} ${source}`],
  );
}

/** The received track id of `source` from `name`, from the same table. */
function trackOf(who, name, source) {
  return who.page.evaluate(
    ([label]) => [...document.querySelectorAll(".stats tbody tr")].find((r) => r.cells[0].textContent === label)?.dataset.track,
    [`${name} ${source}`],
  );
}

/** Audio packets received so far, by track, from everyone but the track `except`. */
function audioPacketsExcept(who, except) {
  return who.page.evaluate(
    ([except]) =>
      Object.fromEntries(
        [...document.querySelectorAll('.stats tbody tr[data-kind="audio"]')]
          .filter((r) => r.dataset.track !== except)
          .map((r) => [r.dataset.track, Number(r.querySelector(".packets").textContent)]),
      ),
    [except],
  );
}

/** Whether `who` is growing `source` from `name`'s packets (two readings 2.5 s apart). */
async function flowing(who, name, source) {
  const before = await packets(who, name, source);
  await sleep(2500);
  const after = await packets(who, name, source);
  return before >= 0 && after > before;
}

/** Frames decoded by the tile showing `participant`'s `source`. */
function framesOf(who, participant, source) {
  return who.page.evaluate(
    ([participant, source]) => {
      const video = document.querySelector(`.tile[data-participant="${participant}"][data-source="${source}"] video`);
      return video ? video.getVideoPlaybackQuality().totalVideoFrames : 0;
    },
    [participant, source],
  );
}

async function tab(who, name) {
  await who.page.getByRole("tab", { name: new RegExp(`^${name}`) }).click();
}

try {
  const [ada, bob, carol] = await Promise.all(["Ada", "Bob", "Carol"].map((name) => person(browser, base, name)));
  for (const who of [ada, bob]) await signIn(who, people[who.name].email, people[who.name].password);

  // Ada schedules the session, starts it and opens the room with camera and microphone on.
  await ada.page.getByRole("link", { name: "Sessions" }).click();
  await ada.page.fill("#s-title", "Live demo");
  await ada.page.getByRole("button", { name: "Schedule" }).click();
  await ada.page.getByRole("button", { name: "Start Live demo" }).click();
  // An invite link for guests (once the started session has moved to "Live now").
  await ada.page.getByRole("button", { name: "Join Live demo" }).waitFor();
  await ada.page.getByText("Invite people to Live demo").click();
  await ada.page.getByRole("button", { name: "Create invite link" }).click();
  const inviteUrl = await ada.page.locator(".invite-url").inputValue();
  check(inviteUrl.includes("/invite#token="), `an invite link: ${inviteUrl}`);
  findings.axe.sessions = await axe(ada.page, "sessions");
  await ada.page.getByRole("button", { name: "Join Live demo" }).click();
  await ada.page.getByRole("button", { name: "Start camera" }).click();
  await ada.page.getByRole("button", { name: "Unmute microphone" }).click();
  await ada.page.getByRole("button", { name: "Stop camera" }).waitFor();

  await bob.page.getByRole("link", { name: "Sessions" }).click();
  await bob.page.getByRole("button", { name: "Join Live demo" }).click();
  await carol.page.goto(inviteUrl);
  await carol.page.getByRole("heading", { name: "You are invited to Live demo" }).waitFor();
  findings.axe.invite = await axe(carol.page, "invite");
  await carol.page.fill("#guest-name", "Carol");
  await carol.page.getByRole("button", { name: "Join as a guest" }).click();
  await carol.page.waitForURL(/\/guest\/[0-9a-f-]{36}$/);
  for (const who of [bob, carol]) {
    await who.page.locator(".room").waitFor();
    await who.page.locator(".stats").evaluate((d) => (d.open = true));
  }

  // Ada records; everyone is told, with the consent notice.
  await ada.page.getByRole("button", { name: "Start recording" }).click();
  for (const who of [ada, bob, carol]) await who.page.getByText("● Recording").waitFor();

  // Both see Ada's video play and receive her audio.
  for (const who of [bob, carol]) {
    await waitFor(`${who.name} decodes Ada's camera`, async () => (await framesOf(who, people.Ada.id, "camera")) > 10, 20000);
    await waitFor(`${who.name} gets Ada's audio`, async () => (await packets(who, "Ada", "microphone")) > 0, 20000);
    check(await flowing(who, "Ada", "microphone"), `${who.name} receives Ada's audio`);
  }

  // Ada makes Bob a presenter; he shares his screen and turns on his microphone.
  await tab(ada, "People");
  await ada.page.selectOption(`#role-${people.Bob.id}`, "presenter");
  await bob.page.getByRole("button", { name: "Share screen" }).click();
  await bob.page.getByRole("button", { name: "Unmute microphone" }).click();
  await waitFor("Ada decodes Bob's screen", async () => (await framesOf(ada, people.Bob.id, "screen")) > 5, 20000);
  await waitFor("Carol gets Bob's audio", async () => (await packets(carol, "Bob", "microphone")) > 0, 20000);
  check(await flowing(carol, "Bob", "microphone"), "Carol receives Bob's audio");

  // Chat round-trip.
  await carol.page.fill("#chat-text", "Hello from Carol");
  await carol.page.getByRole("button", { name: "Send" }).click();
  for (const who of [ada, bob]) {
    await tab(who, "Chat");
    await who.page.locator(".chat li", { hasText: "Hello from Carol" }).waitFor();
  }

  // A poll: Ada opens it, Carol votes, Ada sees the vote counted.
  await tab(ada, "Polls");
  await ada.page.fill("#poll-question", "How is the pace?");
  await ada.page.fill("#poll-options", "Too fast\nJust right");
  await ada.page.getByRole("button", { name: "Open poll" }).click();
  await tab(carol, "Polls");
  await carol.page.getByLabel("Just right").check();
  await carol.page.getByRole("button", { name: "Vote" }).click();
  await carol.page.getByText("You voted: Just right").waitFor();
  await ada.page.getByRole("meter", { name: "Just right: 1 votes" }).waitFor();

  // A question Carol asks and Bob upvotes.
  await tab(carol, "Q&A");
  await carol.page.fill("#qa-text", "Will the slides be shared?");
  await carol.page.getByRole("button", { name: "Ask", exact: true }).click();
  await tab(bob, "Q&A");
  await bob.page.getByRole("button", { name: "Upvote (0)" }).click();
  await tab(ada, "Q&A");
  await ada.page.getByRole("button", { name: "Upvote (1)" }).waitFor();

  // Carol raises her hand; she sees her position and Ada the queue.
  await tab(carol, "People");
  await carol.page.getByRole("button", { name: "Raise hand" }).click();
  await carol.page.getByText("Your hand is raised: position 1 of 1").waitFor();
  await tab(ada, "People");
  await ada.page.locator(".hands li", { hasText: "1. Carol" }).waitFor();
  findings.axe.room = await axe(ada.page, "room");
  findings.screenshots.push(...(await screenshots(ada.page, artifacts, "session-room")));

  // Ada mutes Bob: his audio stops reaching Carol (the only other audio is Ada's), and Bob
  // is told.
  const adasAudio = await trackOf(carol, "Ada", "microphone");
  check(adasAudio, "Carol's table names Ada's audio track");
  const beforeMute = await audioPacketsExcept(carol, adasAudio);
  await ada.page.getByRole("button", { name: "Mute Bob" }).click();
  await bob.page.getByText("A moderator turned off your microphone.").waitFor();
  await sleep(1000);
  const before = await audioPacketsExcept(carol, adasAudio);
  await sleep(2500);
  const after = await audioPacketsExcept(carol, adasAudio);
  // A receiver the renegotiation removed has no row any more: it receives nothing either.
  const grew = Object.entries(after).filter(([track, n]) => n > (before[track] ?? 0));
  const counts = JSON.stringify([beforeMute, before, after]);
  check(Object.values(beforeMute).some((n) => n > 0), `Carol received Bob's audio before the mute: ${counts}`);
  check(grew.length === 0, `no audio but Ada's grows after the mute: ${counts}`);
  check(await flowing(carol, "Ada", "microphone"), "Ada's audio still flows");
  findings.muted = true;

  // Carol's connection drops for longer than the server keeps her peer: on return she gets
  // the chat she missed (resume) and Ada's video again (a new peer).
  await carol.context.setOffline(true);
  await carol.page.getByText("Reconnecting to the session…").waitFor();
  await tab(ada, "Chat");
  await ada.page.fill("#chat-text", "While you were away");
  await ada.page.getByRole("button", { name: "Send" }).click();
  await sleep(11000);
  await carol.context.setOffline(false);
  await tab(carol, "Chat");
  await carol.page.locator(".chat li", { hasText: "While you were away" }).waitFor({ timeout: 20000 });
  await waitFor("Carol decodes Ada's camera again", async () => {
    const before = await framesOf(carol, people.Ada.id, "camera");
    await sleep(1000);
    return (await framesOf(carol, people.Ada.id, "camera")) > before + 5;
  }, 30000);
  findings.rejoined = true;

  // Ada stops the recording and ends the session; its transcript names who spoke, and a
  // click on a line plays that speaker's track from there.
  await ada.page.getByRole("button", { name: "Stop recording" }).click();
  ada.page.once("dialog", (dialog) => dialog.accept());
  await ada.page.getByRole("button", { name: "End session" }).click();
  await carol.page.getByText("The session has ended.").waitFor();
  await ada.page.getByRole("link", { name: "This session's recordings" }).click();
  const line = ada.page.locator(".transcript li", { hasText: "Bob:" }).first();
  await line.waitFor({ timeout: 120000 });
  const transcript = (await ada.page.locator(".transcript").innerText()).toLowerCase();
  const word = spoken.find((w) => transcript.includes(w));
  check(word, `the transcript has a spoken word: ${transcript}`);
  check(transcript.includes("ada:"), `both speakers are named: ${transcript}`);
  await ada.page.fill("input[type=search][id^=filter-]", word);
  await ada.page.locator(".transcript mark").first().waitFor();
  findings.axe.recordings = await axe(ada.page, "recordings");
  await ada.page.locator(".transcript li").first().getByRole("button").click();
  await waitFor("the recording plays from the line", () =>
    ada.page.locator("audio[aria-label='Recording player']").evaluate((a) => !a.paused && a.currentTime > 0),
  );
  findings.transcript = transcript;

  // Ada's dashboard counts the session's people and what they did.
  await ada.page.getByRole("link", { name: "Dashboard", exact: true }).click();
  const row = ada.page.locator("tr", { hasText: "Live demo" });
  await row.waitFor();
  findings.engagement = await row.locator("td").allInnerTexts();

  console.log(JSON.stringify(findings));
} finally {
  await browser.close();
}
