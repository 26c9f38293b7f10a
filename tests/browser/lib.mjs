// What the browser tests share: Debian's Chromium (tests/media/chromium.mjs), a person
// per browser context that fails the test on any page error, axe, screenshots, polling.
import { AxeBuilder } from "@axe-core/playwright";

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

/** Chromium as every browser test launches it (flags in one place, for the media tests too). */
export { launch } from "../media/chromium.mjs";

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
