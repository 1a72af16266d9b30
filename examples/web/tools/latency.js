#!/usr/bin/env node
// Batch-1 latency of a student in one JavaScript client under Node, through ../student.js
// (input cleaning, tensor, session.run: what a caller pays per answer), 1 thread:
//
//   node tools/latency.js node|web student.onnx request.json > times.json
//
// request.json: {"text", "rounds", "warmup"}. Prints {"version", "row", "times_ms": [...]}.
import fs from "node:fs";
import process from "node:process";
import { classify, loadStudent } from "../student.js";
import { runtime } from "./runtimes.js";

async function main() {
  const [client, modelFile, requestFile] = process.argv.slice(2);
  const { text, rounds, warmup } = JSON.parse(fs.readFileSync(requestFile, "ascii"));
  const rt = await runtime(client);
  const model = await loadStudent(rt.ort, fs.readFileSync(modelFile), modelFile, rt.options);
  let row;
  for (let i = 0; i < warmup; i++) [row] = await classify(rt.ort, model, [text]);
  const times = new Array(rounds);
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    await classify(rt.ort, model, [text]);
    times[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  process.stdout.write(JSON.stringify({ version: rt.version, row, times_ms: times }));
}

main().catch((err) => { console.error(`latency.js: error: ${err.message}`); process.exit(2); });
