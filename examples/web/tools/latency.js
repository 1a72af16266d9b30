#!/usr/bin/env node
// Batch-1 latency of a student in JavaScript clients under Node, through ../student.js (input
// cleaning, tensor, session.run: what a caller pays per answer), 1 thread:
//
//   node tools/latency.js node,web student.onnx request.json > times.json
//
// request.json: {"text", "rounds", "warmup"}. Several clients take turns in short blocks, so
// load on the machine hits them alike. Prints {client: {"version", "row",
// "times_ms": [...]}}.
import fs from "node:fs";
import process from "node:process";
import { classify, loadStudent } from "../student.js";
import { runtime } from "./runtimes.js";

const BLOCK = 26;

async function main() {
  const [clients, modelFile, requestFile] = process.argv.slice(2);
  const { text, rounds, warmup } = JSON.parse(fs.readFileSync(requestFile, "ascii"));
  const runs = [];
  for (const client of clients.split(",")) {
    const rt = await runtime(client);
    const model = await loadStudent(rt.ort, fs.readFileSync(modelFile), modelFile, rt.options);
    runs.push({ client, rt, model, times: [], row: null });
  }
  for (const run of runs) for (let i = 0; i < warmup; i++) [run.row] = await classify(run.rt.ort, run.model, [text]);
  // clients take turns in blocks of BLOCK calls (the first of each untimed: it meets the caches
  // the other client left), so load hits them alike while each runs warm, as a service does
  for (let done = 0; done < rounds; done += BLOCK - 1) {
    for (const run of runs) {
      for (let i = 0; i < Math.min(BLOCK, rounds - done + 1); i++) {
        const t0 = process.hrtime.bigint();
        await classify(run.rt.ort, run.model, [text]);
        if (i > 0) run.times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
  }
  const out = Object.fromEntries(runs.map((r) => [r.client, { version: r.rt.version, row: r.row, times_ms: r.times }]));
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { console.error(`latency.js: error: ${err.message}`); process.exit(2); });
