// The workbook pages end to end in headless Chromium (driven from tests/api/browser.rs):
// sign up and sign in, modules with progress and prerequisites, a note co-edited by two
// people who see each other's cursors (and one of them offline for a while), search, an
// upload transcribed, deep links, axe on every page, screenshots at desktop and phone width.
//
//   node workbook.mjs '{"base": "...", "admin": {...}, "wav": "...", "artifacts": "..."}'
//
// Prints one JSON line of findings; exits non-zero on the first failed expectation.
import { axe as axeCheck, check, launch, person as newPerson, screenshots as shoot, waitFor } from "./lib.mjs";

const config = JSON.parse(process.argv[2]);
const { base, admin, wav, artifacts } = config;
const findings = { pages: [], axe: {}, screenshots: [] };
const browser = await launch();
const person = (name) => newPerson(browser, base, name);

async function axe(page, label) {
  findings.axe[label] = await axeCheck(page, label);
}

async function screenshots(page, label) {
  findings.screenshots.push(...(await shoot(page, artifacts, label)));
}

/** The document's text: each line's text without the other editors' cursor widgets. */
async function editorText(page) {
  return page.locator(".cm-content").evaluate((content) =>
    [...content.querySelectorAll(".cm-line")]
      .map((line) => {
        const copy = line.cloneNode(true);
        copy.querySelectorAll(".cm-ySelectionCaret, .cm-widgetBuffer").forEach((w) => w.remove());
        return copy.textContent.replaceAll("\u2060", "");
      })
      .join("\n"),
  );
}

try {
  // Ada, the admin, signs in; Bob creates his account.
  const ada = await person("Ada");
  await ada.page.goto("/modules");
  await ada.page.waitForURL(/\/signin\?next=/);
  await axe(ada.page, "signin");
  await ada.page.fill("#email", admin.email);
  await ada.page.fill("#password", "wrong password");
  await ada.page.click("button[type=submit]");
  await ada.page.getByRole("alert").waitFor();
  check((await ada.page.getByRole("alert").innerText()).length > 0, "a wrong password is reported");
  await ada.page.fill("#password", admin.password);
  await ada.page.click("button[type=submit]");
  await ada.page.waitForURL(/\/modules$/);

  const bob = await person("Bob");
  await bob.page.goto("/signup");
  await axe(bob.page, "signup");
  await bob.page.fill("#name", "Bob");
  await bob.page.fill("#email", "bob@example.com");
  await bob.page.fill("#password", "bob-password-1");
  await bob.page.click("button[type=submit]");
  await bob.page.waitForURL(/\/modules$/);

  // Modules: the second is locked until Bob completes the first.
  const cards = bob.page.locator(".card");
  await cards.nth(1).waitFor();
  const locked = await cards.nth(1).innerText();
  check(locked.includes("Locked until you complete: " + config.modules[0]), `the second module names its prerequisite: ${locked}`);
  await axe(bob.page, "modules");
  await screenshots(bob.page, "modules");
  await bob.page.getByRole("link", { name: config.modules[0] }).click();
  await bob.page.getByRole("button", { name: "Start" }).click();
  await bob.page.getByRole("button", { name: "Mark complete" }).click();
  await bob.page.getByText("Completed. Well done.").waitFor();
  await axe(bob.page, "module");
  await bob.page.getByRole("link", { name: "← All modules" }).click();
  await waitFor("the second module unlocked", async () => !(await cards.nth(1).innerText()).includes("Locked"));
  // A reload on a deep link keeps the page (the server answers index.html, the refresh
  // cookie signs Bob back in).
  await bob.page.reload();
  await cards.nth(1).waitFor();
  findings.pages.push("modules");

  // The admin's dashboard: Bob's completion counted, per learner and over time.
  await ada.page.getByRole("link", { name: "Dashboard", exact: true }).click();
  await ada.page.locator("tr", { hasText: "bob@example.com" }).locator("td").first().filter({ hasText: "1" }).waitFor();
  await ada.page.getByRole("img", { name: "Modules completed over the last 30 days: 1 in all" }).waitFor();
  await ada.page.getByText("Status:").waitFor();
  await axe(ada.page, "dashboard");
  await screenshots(ada.page, "dashboard");

  // Ada writes a note and shares it with Bob.
  await ada.page.getByRole("link", { name: "Notes", exact: true }).click();
  await ada.page.fill("#new-title", "Workshop plan");
  await ada.page.getByRole("button", { name: "Create" }).click();
  await ada.page.waitForURL(/\/notes\/[0-9a-f-]{36}$/);
  const noteUrl = new URL(ada.page.url()).pathname;
  await ada.page.locator(".link.connected").waitFor();
  await ada.page.locator(".cm-content").click();
  await ada.page.keyboard.type("Agenda: introductions and the retrospective\n");
  await ada.page.getByRole("button", { name: "Allow sharing" }).click();
  await ada.page.fill("#share-email", "bob@example.com");
  await ada.page.getByRole("button", { name: "Share", exact: true }).click();
  await ada.page.getByText("Bob (bob@example.com) can write").waitFor();
  await axe(ada.page, "note");

  // Bob finds it among his notes, opens it, and both type at once.
  await bob.page.getByRole("link", { name: "Notes", exact: true }).click();
  await bob.page.getByRole("link", { name: "Workshop plan" }).waitFor();
  await axe(bob.page, "notes");
  await bob.page.getByRole("link", { name: "Workshop plan" }).click();
  await bob.page.locator(".link.connected").waitFor();
  await waitFor("Bob sees Ada's text", async () => (await editorText(bob.page)).includes("retrospective"));
  await axe(bob.page, "notes-shared");
  for (const { page } of [ada, bob]) {
    await page.locator(".cm-content").click();
    await page.keyboard.press("Control+End");
  }
  await Promise.all([
    bob.page.keyboard.type("Bob: I will bring the slides\n"),
    ada.page.keyboard.type("Ada: coffee at ten\n"),
  ]);
  let texts;
  await waitFor("the two editors converge", async () => {
    texts = [await editorText(ada.page), await editorText(bob.page)];
    return texts[0] === texts[1] && texts[0].includes("slides") && texts[0].includes("coffee");
  }).catch((err) => {
    throw new Error(`${err.message}: ${JSON.stringify(texts)}`);
  });
  // Each sees the other's cursor with their name, and the other in the list of people.
  await ada.page.locator(".cm-ySelectionInfo", { hasText: "Bob" }).waitFor({ state: "attached" });
  await bob.page.locator(".cm-ySelectionInfo", { hasText: "Ada" }).waitFor({ state: "attached" });
  await ada.page.locator(".people li", { hasText: "Bob" }).waitFor();
  await screenshots(ada.page, "note-editor");
  findings.pages.push("note");

  // Bob goes offline, keeps typing, and his edit merges when he is back.
  await bob.context.setOffline(true);
  await bob.page.evaluate(() => window.dispatchEvent(new Event("offline")));
  await bob.page.keyboard.type("Written offline\n");
  await new Promise((r) => setTimeout(r, 500));
  check(!(await editorText(ada.page)).includes("Written offline"), "an offline edit stays in Bob's browser");
  await bob.page.locator(".link.offline").waitFor();
  await bob.context.setOffline(false);
  await waitFor("the offline edit reaches Ada", async () => (await editorText(ada.page)).includes("Written offline"), 30000);

  // A reload keeps everything: REST and the live document agree.
  await bob.page.goto(noteUrl);
  await waitFor("the reloaded note shows every edit", async () => {
    const text = await editorText(bob.page);
    return text.includes("Written offline") && text.includes("coffee");
  });

  // Search finds the note, with the match highlighted.
  await ada.page.fill("#global-search", "retrospective");
  await ada.page.press("#global-search", "Enter");
  await ada.page.waitForURL(/\/search\?q=retrospective/);
  await ada.page.locator(".card", { hasText: "Workshop plan" }).waitFor();
  check((await ada.page.locator(".card mark").count()) > 0, "the snippet highlights the match");
  await axe(ada.page, "search");
  findings.pages.push("search");

  // An upload is transcribed and its transcript shown.
  await bob.page.getByRole("link", { name: "Audio", exact: true }).click();
  await axe(bob.page, "audio");
  await bob.page.setInputFiles("#audio-file", wav);
  await bob.page.waitForURL(/\/audio\/[0-9a-f-]{36}$/);
  await bob.page.locator(".transcript li").first().waitFor({ timeout: 120000 });
  const transcript = (await bob.page.locator(".transcript").innerText()).toLowerCase();
  check(config.spoken.some((word) => transcript.includes(word)), `the transcript has a spoken word: ${transcript}`);
  await axe(bob.page, "recording");
  findings.transcript = transcript;
  findings.pages.push("audio");

  // A voice note recorded in the browser (MediaRecorder, the fake microphone's beeps) is
  // accepted and transcribed.
  await bob.page.getByRole("link", { name: "Audio", exact: true }).click();
  await bob.page.getByRole("button", { name: "Record a voice note" }).click();
  await bob.page.getByText("Recording…").waitFor();
  await new Promise((r) => setTimeout(r, 2500));
  await bob.page.getByRole("button", { name: "Stop and transcribe" }).click();
  await bob.page.waitForURL(/\/audio\/[0-9a-f-]{36}$/).catch(async (err) => {
    const alerts = await bob.page.getByRole("alert").allInnerTexts();
    throw new Error(`the voice note was not accepted: ${alerts.join(" | ") || err.message}`);
  });
  // The transcript's heading shows once the job is done (beeps may transcribe to nothing).
  await bob.page.getByRole("heading", { name: "Transcript" }).waitFor({ timeout: 60000 });
  const length = await bob.page.locator("article p.meta").first().innerText();
  check(/^0:0[2-9]$/.test(length), `the voice note lasts the 2.5 s recorded: ${length}`);
  findings.pages.push("voice note");

  // The reset page an admin's link opens.
  await bob.page.goto("/reset-password#token=abc");
  await bob.page.getByRole("heading", { name: "Choose a new password" }).waitFor();
  await axe(bob.page, "reset-password");

  // An unknown client route shows the client's own page, not a server error.
  await bob.page.goto("/no/such/page");
  await bob.page.getByRole("heading", { name: "Not found" }).waitFor();

  console.log(JSON.stringify(findings));
} finally {
  await browser.close();
}
