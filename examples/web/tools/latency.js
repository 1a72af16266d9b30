#!/usr/bin/env node
// Batch-1 latency of a student in JavaScript clients under Node, through ../student.js (input
// cleaning, tensor, session.run: what a caller pays per answer), 1 thread:
//
//   node tools/latency.js node,web student.onnx request.json > times.json
//
// request.json: {"text", "rounds", "warmup"}. Several clients are timed round-robin, call by
// call, so load on the machine hits them alike. Prints {client: {"version", "row",
// "times_ms": [...]}}.
import fs from "node:fs";
import process from "node:process";
import { classify, loadStudent } from "../student.js";
import { runtime } from "./runtimes.js";

async function main() {
  const [clients, modelFile, requestFile] = process.argv.slice(2);
  const { text, rounds, warmup } = JSON.parse(fs.readFileSync(requestFile, "ascii"));
  const runs = [];
  for (const client of clients.split(",")) {
    const rt = await runtime(client);
    const model = await loadStudent(rt.ort, fs.readFileSync(modelFile), modelFile, rt.options);
    runs.push({ client, rt, model, times: [], row: null });
  }
  for (let i = 0; i < warmup + rounds; i++) {
    for (const run of runs) {
      const t0 = process.hrtime.bigint();
      const [row] = await classify(run.rt.ort, run.model, [text]);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (i >= warmup) run.times.push(ms);
      run.row = row;
    }
  }
  const out = Object.fromEntries(runs.map((r) => [r.client, { version: r.rt.version, row: r.row, times_ms: r.times }]));
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { console.error(`latency.js: error: ${err.message}`); process.exit(2); });
