import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { runCli } from "../../cli/main";
import { reconcile } from "../../shared/engine/reconcile";
import type { RunResult } from "../../shared/model";
import { fastRetry, startHarness, type Harness } from "../support/harness";

/**
 * `billing-sync report` opened in a real browser: headless Chromium from Debian's
 * `chromium` package (.ci/run installs it), driven by puppeteer-core, which downloads
 * nothing. The history is seeded by real runs of the engine over the simulator and Azurite
 * (its clock set back, so three days of runs take a second); the report is written by the
 * CLI command; the page must draw its charts and tables with no console error and no
 * network request. The screenshot (and a PDF print) stay in the test's temp folder.
 */
const CHROMIUM = process.env.BILLING_SYNC_CHROMIUM ?? "/usr/bin/chromium";
const HOUR = 3_600_000;
const NOW = new Date();
const START = new Date(NOW.getTime() - 69 * HOUR);

const CONTOSO = {
  PurchaseOrderNumber: "PO-2026-0042",
  TaxId: "DE811907980",
  PrimaryContact: { FirstName: "Morgan", LastName: "Reyes", Email: "billing@contoso.example", PhoneNumber: "+49 30 555 0142" },
};
/** Every personal value the runs and the desired rows hold: the default report must show none. */
const PERSONAL = ["DE811907980", "Morgan", "Reyes", "billing@contoso.example", "+49 30 555 0142", "US-91-1144442", "avery.former@contoso.example", "Avery", "+1 425 555 0100", "1 Microsoft Way"];

let h: Harness;
let dir: string;
let browser: Browser;
let profile: string;
const runs: RunResult[] = [];

async function seedHistory(): Promise<void> {
  let clock = START;
  // The engine's own reconcile with its clock set back: each run is real, only its time is chosen.
  const deps = { ...h.engine().deps, now: () => clock };
  const sync = async (target: string, options: { dryRun?: boolean; trigger?: "timer" | "cli" } = {}) => {
    runs.push(await reconcile({ target, trigger: options.trigger ?? "timer", dryRun: options.dryRun }, deps));
  };
  await h.setDesired("contoso", CONTOSO);
  // Observe mode, a field contoso does not manage: drift found every run, never written.
  await h.setDesired("fabrikam", { Mode: "observe", Address: { City: "Seattle" } });
  for (let i = 0; i < 24; i++) {
    clock = new Date(START.getTime() + i * 3 * HOUR);
    if (i === 6) h.sim.write({ purchaseOrderNumber: "HAND-EDIT-7" });
    if (i === 11) {
      h.sim.write({ "primaryContact.email": "someone.else@contoso.example" });
      h.sim.inject({ method: "PUT", fault: { kind: "status", status: 400, body: JSON.stringify({ code: 2001, description: "The billing profile could not be updated.", source: "PartnerFD" }) } });
    }
    if (i === 17) {
      h.sim.write({ taxId: "US-00-0000000" });
      await sync("contoso", { dryRun: true, trigger: "cli" });
    }
    if (i === 20) h.sim.inject({ method: "GET", fault: { kind: "throttle", retryAfterSeconds: 2 } });
    await sync("contoso");
    await sync("fabrikam");
  }
}

async function report(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(["report", ...args], { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: h.env, engineOptions: { retry: fastRetry(h.waits) } });
  return { code, stdout, stderr };
}

interface Opened {
  page: Page;
  consoleErrors: string[];
  pageErrors: string[];
  requests: string[];
}

async function open(file: string): Promise<Opened> {
  const page = await browser.newPage();
  const opened: Opened = { page, consoleErrors: [], pageErrors: [], requests: [] };
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warn") opened.consoleErrors.push(`${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => opened.pageErrors.push(String(error)));
  page.on("request", (request) => opened.requests.push(request.url()));
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  return opened;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get update && apt-get install -y chromium; .ci/run does it), or set BILLING_SYNC_CHROMIUM.`);
  }
  dir = mkdtempSync(join(tmpdir(), "billing-sync-report-"));
  h = await startHarness();
  const launching = puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: (profile = mkdtempSync(join(dir, "profile-"))),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  await seedHistory();
  browser = await launching;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  // The report, its screenshot and PDF stay; the browser profile goes.
  if (profile) rmSync(profile, { recursive: true, force: true });
  await h?.stop();
});

describe("billing-sync report, opened in headless Chromium", () => {
  let opened: Opened;
  const file = () => join(dir, "report.html");

  it("writes one HTML file from the history and says what is in it", async () => {
    expect(runs.map((r) => r.outcome)).toEqual(expect.arrayContaining(["corrected", "in-sync", "failed", "drift"]));
    const result = await report(["--out", file(), "--since", START.toISOString().slice(0, 10)]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const corrections = runs.filter((r) => r.outcome === "corrected").reduce((n, r) => n + r.changes.length, 0);
    expect(result.stdout).toMatch(new RegExp(`^Report written to .*report\\.html \\(\\d+ KiB\\): 2 targets, ${runs.length} runs, ${corrections} field corrections, 1 failed run; personal values masked\\.\\n$`));
    const html = readFileSync(file(), "utf8");
    for (const value of PERSONAL) expect({ value, inFile: html.includes(value) }).toEqual({ value, inFile: false });
  });

  it("draws the timeline and the corrections by field, with no console error and no network request", async () => {
    opened = await open(file());
    const { page } = opened;
    const charts = await page.$$eval("svg.chart", (svgs) =>
      svgs.map((svg) => ({ kind: svg.getAttribute("class"), width: svg.getBoundingClientRect().width, height: svg.getBoundingClientRect().height, bars: svg.querySelectorAll("rect.bar").length })),
    );
    const fields = new Set(runs.filter((r) => r.outcome === "corrected").flatMap((r) => r.changes.map((c) => c.field)));
    expect(charts).toEqual([
      { kind: "chart timeline", width: expect.any(Number), height: expect.any(Number), bars: expect.any(Number) },
      { kind: "chart fields", width: expect.any(Number), height: expect.any(Number), bars: fields.size },
    ]);
    for (const chart of charts) expect(chart.width).toBeGreaterThan(600);
    const outcomes = await page.$$eval("svg.timeline rect.bar", (rects) => [...new Set(rects.map((r) => r.getAttribute("data-outcome")))].sort());
    expect(outcomes).toEqual(["corrected", "drift", "failed", "in-sync"]);
    // Every seeded run is in a bar: the tooltips' counts add up.
    const counted = await page.$$eval("svg.timeline rect.bar title", (titles) => titles.reduce((n, t) => n + Number(/: (\d+) /.exec(t.textContent ?? "")?.[1] ?? 0), 0));
    expect(counted).toBe(runs.length);
    expect(opened.consoleErrors).toEqual([]);
    expect(opened.pageErrors).toEqual([]);
    expect(opened.requests).toEqual([pathToFileURL(file()).href]);
  });

  it("lists every correction with field, old and new value (masked where personal), trigger and correlation id", async () => {
    const rows = await opened.page.$$eval("table.corrections tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent?.trim() ?? "")));
    const corrected = runs.filter((r) => r.outcome === "corrected");
    expect(rows).toHaveLength(corrected.reduce((n, r) => n + r.changes.length, 0));
    const expected = corrected
      .slice()
      .reverse()
      .flatMap((r) => r.changes.map((c) => [c.field, c.from, c.to, "timer", r.correlationId]));
    expect(rows.map(([, , field, from, to, , trigger, correlationId]) => [field, from, to, trigger, correlationId])).toEqual(expected);
    expect(rows.some(([, , field, from, to]) => field === "PurchaseOrderNumber" && from === "HAND-EDIT-7" && to === "PO-2026-0042")).toBe(true);
    expect(rows.some(([, , field, , to]) => field === "PrimaryContact_Email" && to === "b***@***")).toBe(true);
    const text = (await opened.page.evaluate("document.body.innerText")) as string;
    for (const value of PERSONAL) expect({ value, shown: text.includes(value) }).toEqual({ value, shown: false });
    expect(await opened.page.$$eval("table.failures tbody tr", (trs) => trs.length)).toBe(1);
    // 24 observe-mode runs found the same difference: one row.
    expect(await opened.page.$$eval("table.drift-left tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].slice(0, 5).map((td) => td.textContent)))).toEqual([["fabrikam", "Address_City", "Redmond", "Seattle", "24"]]);
  });

  it("shows the desired state now, masked, and prints (A4 landscape, the print stylesheet applied)", async () => {
    const { page } = opened;
    const desired = await page.$$eval("#desired table.desired tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent?.trim())));
    expect(desired).toEqual([
      ["PrimaryContact_Email", "b***@***"],
      ["PrimaryContact_FirstName", "M***"],
      ["PrimaryContact_LastName", "R***"],
      ["PrimaryContact_PhoneNumber", "+***"],
      ["PurchaseOrderNumber", "PO-2026-0042"],
      ["TaxId", "D***"],
      ["Address_City", "Seattle"],
    ]);
    const screenshot = join(dir, "report.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    const png = readFileSync(screenshot);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(statSync(screenshot).size).toBeGreaterThan(30_000);

    await page.emulateMediaType("print");
    expect(await page.evaluate(`getComputedStyle(document.querySelector("thead")).display`)).toBe("table-header-group");
    const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
    writeFileSync(join(dir, "report.pdf"), pdf);
    expect(Buffer.from(pdf).subarray(0, 5).toString("latin1")).toBe("%PDF-");
    expect(opened.consoleErrors).toEqual([]);
    expect(opened.requests).toEqual([pathToFileURL(file()).href]);
  });

  it("with --show-personal, shows the values the runs replaced, the values they sent, and the desired values", async () => {
    const personal = join(dir, "report-personal.html");
    const result = await report(["--out", personal, "--target", "contoso", "--since", START.toISOString(), "--show-personal"]);
    expect(result.stdout).toMatch(/1 target, .*personal values SHOWN\.\n$/);
    const { page, consoleErrors, requests } = await open(personal);
    const text = (await page.evaluate("document.body.innerText")) as string;
    for (const value of ["avery.former@contoso.example", "US-91-1144442", "billing@contoso.example", "DE811907980", "someone.else@contoso.example"]) {
      expect({ value, shown: text.includes(value) }).toEqual({ value, shown: true });
    }
    expect(text).toContain("This report shows personal data");
    // The corrections table itself: the e-mail someone else wrote, put back to the desired one.
    const rows = await page.$$eval("table.corrections tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent?.trim() ?? "")));
    expect(rows.map(([, , field, from, to]) => [field, from, to])).toContainEqual(["PrimaryContact_Email", "someone.else@contoso.example", "billing@contoso.example"]);
    expect(rows.map(([, , field, from, to]) => [field, from, to])).toContainEqual(["TaxId", "US-00-0000000", "DE811907980"]);
    expect(consoleErrors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(personal).href]);
    expect(statSync(personal).mode & 0o777).toBe(0o600);
  });
});
