// Drives a real classic Jupyter Notebook server (Debian's jupyter-notebook 6) in headless Chromium:
//   node tests/browser/notebook-server.mjs --jupyter-path P --dir D --notebook charts.ipynb --untrusted executed.ipynb
// 1. opens D/charts.ipynb, Run All: every chart draws, and Run All stops at the failing cell (the cell after it is
//    not run);
// 2. saves, reloads the page: every chart draws again;
// 3. clears the first chart's output (the one holding plotly.js), saves, reloads: the other chart still draws (from
//    the browser's cache); then runs a new chart cell: it draws too. (The new cell is not saved: Notebook 6.4 gives
//    it no id in an nbformat 4.5 notebook, and the server then cannot keep the notebook trusted.)
// 4. opens D/<untrusted> (executed elsewhere, so not trusted by this server): no script runs and every chart shows
//    its static image.
// Prints what it saw; exit status 1 on any failed check. The server is started here and stopped at the end.
import puppeteer from "puppeteer-core";
import { spawn } from "node:child_process";
import net from "node:net";

const opt = {};
for (let i = 2; i < process.argv.length; i += 2) opt[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
const problems = [];
const check = (ok, what) => { console.log((ok ? "ok   " : "FAIL ") + what); if (!ok) problems.push(what); };

const port = await new Promise((res) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); }); });
const token = "routecal-test-" + Math.random().toString(36).slice(2);
// The server's runtime, config and data (its notebook-trust database) live in the test folder, not in the home.
const serverArgs = ["--no-browser", `--port=${port}`, "--ip=127.0.0.1", `--NotebookApp.token=${token}`, `--notebook-dir=${opt.dir}`];
if (process.getuid && process.getuid() === 0) serverArgs.push("--allow-root"); // CI runs as root
const server = spawn("jupyter-notebook", serverArgs, { env: { ...process.env, JUPYTER_PATH: opt["jupyter-path"],
  JUPYTER_RUNTIME_DIR: `${opt.dir}/.jupyter/runtime`, JUPYTER_CONFIG_DIR: `${opt.dir}/.jupyter/config`,
  JUPYTER_DATA_DIR: `${opt.dir}/.jupyter/data` }, stdio: ["ignore", "pipe", "pipe"] });
let serverLog = "";
server.stdout.on("data", (d) => serverLog += d);
server.stderr.on("data", (d) => serverLog += d);
const base = `http://127.0.0.1:${port}`;
for (let i = 0; i < 120; i++) {
  try { if ((await fetch(`${base}/api?token=${token}`)).ok) break; } catch (e) { /* not up yet */ }
  await new Promise((r) => setTimeout(r, 500));
}
const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
const page = await browser.newPage();
page.on("dialog", async (d) => {
  if (d.type() === "beforeunload") return d.accept(); // leaving a notebook with unsaved changes
  problems.push("dialog: " + d.message());
  await d.dismiss();
});
const consoleLines = [];
page.on("console", (m) => consoleLines.push(m.type() + ": " + m.text()));
page.on("pageerror", (e) => consoleLines.push("pageerror: " + e));

async function open(name) {
  await page.goto(`${base}/notebooks/${name}?token=${token}`, { waitUntil: "networkidle2", timeout: 120000 });
  await page.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel
    && Jupyter.notebook.kernel.is_connected() && Jupyter.notebook._fully_loaded, { timeout: 180000 });
}
async function idle() {
  // A queued or running cell shows In [*]; the run is over when none does.
  await page.waitForFunction(() => [...document.querySelectorAll(".input_prompt")].every((p) => p.textContent.indexOf("*") < 0),
    { timeout: 600000, polling: 500 });
}
async function charts() {
  await page.waitForFunction(() => [...document.querySelectorAll(".rc-chart")].every((c) => c.hasAttribute("data-rc-drawn")
    || c.querySelector(".rc-chart-note").textContent !== ""), { timeout: 60000 }).catch(() => {});
  return page.evaluate(() => ({ total: document.querySelectorAll(".rc-chart").length,
    drawn: document.querySelectorAll(".rc-chart[data-rc-drawn] .main-svg").length ? document.querySelectorAll(".rc-chart[data-rc-drawn]").length : 0,
    notes: [...document.querySelectorAll(".rc-chart-note")].map((n) => n.textContent).filter((t) => t) }));
}

try {
  await open(opt.notebook);
  await page.evaluate(() => Jupyter.notebook.execute_all_cells());
  await new Promise((r) => setTimeout(r, 2000));
  await idle();
  let c = await charts();
  check(c.total >= 2 && c.drawn === c.total, `run all: ${c.drawn} of ${c.total} charts drawn ${c.notes.join("|")}`);
  const counts = await page.evaluate(() => Jupyter.notebook.get_cells().filter((x) => x.cell_type === "code").map((x) => x.input_prompt_number));
  check(counts.at(-2) != null && counts.at(-1) == null, `run all stops at the failing cell (execution counts ${JSON.stringify(counts)})`);
  await page.evaluate(() => Jupyter.notebook.save_notebook());
  await new Promise((r) => setTimeout(r, 1500));

  await open(opt.notebook);
  c = await charts();
  check(c.total >= 2 && c.drawn === c.total, `after reload: ${c.drawn} of ${c.total} charts drawn ${c.notes.join("|")}`);
  await page.evaluate(() => { const first = Jupyter.notebook.get_cells().find((x) => x.element.find(".rc-chart").length);
    first.clear_output(); });
  await page.evaluate(() => Jupyter.notebook.save_notebook());
  await new Promise((r) => setTimeout(r, 1500));
  await open(opt.notebook);
  c = await charts();
  const trusted = await page.evaluate(() => Jupyter.notebook.trusted);
  check(c.total >= 1 && c.drawn === c.total, `first chart output cleared, reload: ${c.drawn} of ${c.total} drawn ${c.notes.join("|")} (trusted ${trusted})`);

  await page.evaluate(() => { const cell = Jupyter.notebook.insert_cell_at_bottom("code");
    cell.set_text('Chart.bars("after reload", Table.create("t", IntColumn.create("n", new int[]{1, 2})), "n", "n")'); cell.execute(); });
  await new Promise((r) => setTimeout(r, 2000));
  await idle();
  c = await charts();
  check(c.drawn === c.total, `a new chart after the reload: ${c.drawn} of ${c.total} drawn ${c.notes.join("|")}`);

  await open(opt.untrusted);
  const u = await page.evaluate(() => ({ trusted: Jupyter.notebook.trusted,
    images: [...document.querySelectorAll("img")].filter((i) => i.src.startsWith("data:image/png") && i.complete && i.naturalWidth > 0).length,
    charts: document.querySelectorAll(".rc-chart").length, drawn: document.querySelectorAll(".main-svg").length,
    pwned: window.__rcPwned === undefined ? null : window.__rcPwned }));
  check(u.trusted === false, "the executed notebook opens untrusted");
  check(u.images >= 1 && u.images >= u.charts, `untrusted: ${u.images} static chart images shown (${u.charts} chart outputs)`);
  check(u.drawn === 0 && u.pwned === null, "untrusted: no script ran");
  await page.screenshot({ path: `${opt.dir}/untrusted.png`, fullPage: true });
} catch (e) {
  problems.push(String(e && e.stack || e));
} finally {
  await browser.close();
  server.kill("SIGTERM");
}
if (problems.length) console.log("server log tail:\n" + serverLog.slice(-3000) + "\nbrowser console:\n" + consoleLines.slice(-30).join("\n"));
console.log(problems.length ? "notebook server checks FAILED:\n  " + problems.join("\n  ") : "notebook server checks: ok");
process.exit(problems.length ? 1 : 0);
