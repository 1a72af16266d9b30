#!/usr/bin/env node
// Drive the page in headless Chromium (playwright-core, the system's chromium):
//
//   node tools/drive_page.js URL request.json > result.json
//
// URL is the page with ?model=...; request.json (ASCII JSON, so lone surrogates survive the
// trip into the page) may hold "texts" (classified in one call), "upload" (a model file picked
// with the page's file input; "texts" are classified again with it), "typed" (typed into the text
// box; the label, probabilities and time the page shows are read back) and "timing":
// {"text", "rounds", "warmup"} (per-answer times in ms, through the page's own answer()).
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];

async function main() {
  const [url, requestFile] = process.argv.slice(2);
  const request = fs.readFileSync(requestFile, "ascii");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(url);
    await page.waitForFunction(() => window.edgeDistill !== undefined, null, { timeout: 60000 });
    const labels = await page.evaluate(() => window.edgeDistill.ready);
    const info = await page.evaluate(() => ({
      version: window.edgeDistill.version,
      crossOriginIsolated: window.edgeDistill.crossOriginIsolated,
      userAgent: navigator.userAgent,
    }));
    const out = { ...info, labels, errors };
    out.rows = await page.evaluate(async (json) => {
      const { texts } = JSON.parse(json);
      return texts ? window.edgeDistill.classify(texts) : null;
    }, request);
    const { typed, timing, upload } = JSON.parse(request);
    if (upload !== undefined) { // the same texts again, on a model picked with the file input
      await page.setInputFiles("#file", upload);
      const name = path.basename(upload);
      await page.waitForFunction((n) => document.getElementById("status").textContent.startsWith(`${n}:`), name);
      out.uploaded = await page.evaluate(async (json) => window.edgeDistill.classify(JSON.parse(json).texts), request);
    }
    if (typed !== undefined) {
      await page.fill("#text", typed);
      await page.waitForFunction((t) => document.body.dataset.answered === t, typed);
      out.typed = await page.evaluate(() => ({
        label: document.getElementById("label").textContent,
        probabilities: Array.from(document.querySelectorAll("#probabilities tr"), (tr) => [tr.cells[0].textContent, tr.cells[1].textContent]),
        time: document.getElementById("time").textContent,
      }));
    }
    if (timing) {
      out.times_ms = await page.evaluate(async ({ text, rounds, warmup }) => {
        for (let i = 0; i < warmup; i++) await window.edgeDistill.answer(text);
        const times = [];
        for (let i = 0; i < rounds; i++) times.push((await window.edgeDistill.answer(text)).ms);
        return times;
      }, timing);
    }
    out.errors = errors;
    process.stdout.write(JSON.stringify(out));
  } finally {
    await browser.close();
  }
}

main().catch((err) => { console.error(`drive_page.js: error: ${err.message}`); process.exit(2); });
