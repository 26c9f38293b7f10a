// Lighthouse scores of the module list and a note, signed in (scripts/lighthouse.sh runs it
// against a fresh release server). Chromium runs with a persistent profile so the login's
// refresh cookie, set through playwright, is there when Lighthouse loads each page.
//
//   node lighthouse.mjs BASE EMAIL PASSWORD NOTE_ID
import lighthouse from "lighthouse";
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [base, email, password, noteId] = process.argv.slice(2);
const port = 9333;
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "lh-")), {
  executablePath: "/usr/bin/chromium",
  args: ["--headless=new", "--no-sandbox", `--remote-debugging-port=${port}`, "--no-first-run"],
});
try {
  const page = await context.newPage();
  await page.goto(`${base}/signin`);
  await page.fill("#email", email);
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  await page.waitForURL(/\/modules$/);

  const rows = [];
  for (const [name, path] of [["module list", "/modules"], ["note", `/notes/${noteId}`]]) {
    for (const formFactor of ["mobile", "desktop"]) {
      const flags = { port, output: "json", onlyCategories: ["performance", "accessibility"], formFactor };
      const config = formFactor === "desktop" ? (await import("lighthouse/core/config/desktop-config.js")).default : undefined;
      const result = await lighthouse(`${base}${path}`, flags, config);
      const { categories, audits } = result.lhr;
      // A signed-out page would redirect to /signin and measure the wrong page.
      const landed = new URL(result.lhr.finalDisplayedUrl).pathname;
      if (landed !== path) throw new Error(`${path} ended at ${landed}: not signed in?`);
      rows.push({
        page: name,
        formFactor,
        performance: Math.round(categories.performance.score * 100),
        accessibility: Math.round(categories.accessibility.score * 100),
        fcpMs: Math.round(audits["first-contentful-paint"].numericValue),
        lcpMs: Math.round(audits["largest-contentful-paint"].numericValue),
        tbtMs: Math.round(audits["total-blocking-time"].numericValue),
        cls: audits["cumulative-layout-shift"].numericValue.toFixed(3),
      });
    }
  }
  console.table(rows);
  console.log(JSON.stringify(rows));
} finally {
  await context.close();
}
