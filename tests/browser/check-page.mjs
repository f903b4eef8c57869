// Opens a routecal HTML output (report or notebook export) in Debian's headless Chromium, offline, and checks it:
//   node tests/browser/check-page.mjs PAGE.html [--charts N] [--text STRING]... [--screenshot OUT.png] [--no-js]
// * no injected script ran: hostile test inputs set window.__rcPwned (or open a dialog) if they ever execute;
// * every chart (.rc-chart) was drawn by plotly.js (data-rc-drawn) — or, with --no-js, shows its static image;
// * each --text appears verbatim in the page's visible text (so hostile strings were shown as text, not parsed);
// * no request leaves the file (network is refused), so charts can only come from the embedded plotly.js.
// Prints one JSON line with what it saw; exit status 1 on any failed check.
import puppeteer from "puppeteer-core";
import { pathToFileURL } from "node:url";
import path from "node:path";

const args = process.argv.slice(2);
const file = args.shift();
let charts = null, screenshot = null, js = true;
const texts = [];
while (args.length) {
  const a = args.shift();
  if (a === "--charts") charts = Number(args.shift());
  else if (a === "--text") texts.push(args.shift());
  else if (a === "--screenshot") screenshot = args.shift();
  else if (a === "--no-js") js = false;
  else throw new Error("unknown argument " + a);
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const problems = [];
let seen = {};
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.setJavaScriptEnabled(js);
  const dialogs = [];
  page.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  const external = [];
  await page.setRequestInterception(true);
  page.on("request", (r) => {
    const u = r.url();
    if (u.startsWith("file:") || u.startsWith("data:") || u.startsWith("blob:")) r.continue();
    else { external.push(u); r.abort(); }
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(pathToFileURL(path.resolve(file)).href, { waitUntil: "load", timeout: 120000 });
  if (js) {
    // Charts draw asynchronously (the bundle is inflated first): wait until every chart is drawn or has given up.
    await page.waitForFunction(() => [...document.querySelectorAll(".rc-chart")].every(
      (c) => c.hasAttribute("data-rc-drawn") || c.querySelector(".rc-chart-note").textContent !== ""), { timeout: 120000 });
  }
  seen = await page.evaluate(() => ({
    pwned: window.__rcPwned === undefined ? null : String(window.__rcPwned),
    charts: document.querySelectorAll(".rc-chart").length,
    drawn: document.querySelectorAll(".rc-chart[data-rc-drawn] .main-svg").length > 0
      ? document.querySelectorAll(".rc-chart[data-rc-drawn]").length : 0,
    staticImages: [...document.querySelectorAll(".rc-chart img.rc-static")].filter((i) => i.complete && i.naturalWidth > 0).length,
    notes: [...document.querySelectorAll(".rc-chart-note")].map((n) => n.textContent).filter((t) => t),
    title: document.title,
    text: document.body ? document.body.innerText : "",
  }));
  if (seen.pwned !== null) problems.push("an injected script ran (window.__rcPwned = " + seen.pwned + ")");
  if (dialogs.length) problems.push("a dialog opened: " + dialogs.join(" | "));
  if (external.length) problems.push("the page requested the network: " + external.slice(0, 3).join(", "));
  if (charts !== null && seen.charts !== charts) problems.push(`${seen.charts} charts in the page, expected ${charts}`);
  if (js && seen.drawn !== seen.charts) problems.push(`${seen.drawn} of ${seen.charts} charts drawn; notes: ${seen.notes.join(" | ")}`);
  if (!js && seen.staticImages !== seen.charts) problems.push(`${seen.staticImages} of ${seen.charts} charts show a static image`);
  for (const t of texts) if (!seen.text.includes(t)) problems.push("text not shown verbatim: " + JSON.stringify(t));
  if (errors.length) problems.push("page errors: " + errors.slice(0, 3).join(" | "));
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  problems.push(String(e));
} finally {
  await browser.close();
}
delete seen.text;
console.log(JSON.stringify({ file, ...seen, problems }));
process.exit(problems.length ? 1 : 0);
