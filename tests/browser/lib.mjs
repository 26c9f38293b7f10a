// What the browser tests share: Debian's Chromium with the flags TESTING.md lists, a person
// per browser context that fails the test on any page error, axe, screenshots, polling.
import { AxeBuilder } from "@axe-core/playwright";
import { chromium } from "playwright-core";

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

/** Headless Chromium with fake camera, microphone and screen, and loopback WebRTC; with
 *  `microphoneWav`, every fake microphone plays that file. */
export function launch(microphoneWav) {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless=new",
      "--no-sandbox",
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      "--allow-loopback-in-peer-connection",
      "--disable-features=WebRtcHideLocalIpsWithMdns",
      "--autoplay-policy=no-user-gesture-required",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      ...(microphoneWav ? [`--use-file-for-fake-audio-capture=${microphoneWav}`] : []),
    ],
  });
}

export function check(ok, what) {
  if (!ok) throw new Error(`expected: ${what}`);
}

/** A browser context of its own (cookies, IndexedDB), failing on any page error. */
export async function person(browser, base, name) {
  const context = await browser.newContext({ baseURL: base, viewport: DESKTOP, permissions: ["camera", "microphone"] });
  const page = await context.newPage();
  page.on("pageerror", (err) => {
    throw new Error(`${name}'s page threw: ${err.message}`);
  });
  page.on("console", (msg) => {
    // A refused request shows as a console error too; the pages handle those themselves.
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) {
      throw new Error(`${name}'s console: ${msg.text()}`);
    }
  });
  return { name, context, page };
}

/** Signs `who` in through the sign-in page. */
export async function signIn(who, email, password) {
  await who.page.goto("/signin");
  await who.page.fill("#email", email);
  await who.page.fill("#password", password);
  await who.page.click("button[type=submit]");
  await who.page.waitForURL(/\/modules$/);
}

/** axe on the page as it is now: no serious or critical violation. Returns all violations. */
export async function axe(page, label) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  check(bad.length === 0, `no serious axe violations on ${label}: ${JSON.stringify(bad.map((v) => [v.id, v.nodes.map((n) => n.target)]))}`);
  return result.violations.map((v) => `${v.id} (${v.impact})`);
}

/** Full-page screenshots at desktop and phone width; returns their paths. */
export async function screenshots(page, dir, label) {
  const paths = [];
  for (const [size, viewport] of [["desktop", DESKTOP], ["phone", PHONE]]) {
    await page.setViewportSize(viewport);
    const path = `${dir}/${label}-${size}.png`;
    await page.screenshot({ path, fullPage: true });
    paths.push(path);
  }
  await page.setViewportSize(DESKTOP);
  return paths;
}

export async function waitFor(what, predicate, timeout = 15000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
