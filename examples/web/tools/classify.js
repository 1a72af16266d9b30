#!/usr/bin/env node
// Classify texts with a student.onnx in one JavaScript client, through ../student.js (the
// page's own loading, checksum and input cleaning):
//
//   node tools/classify.js node|web student.onnx request.json > rows.json
//
// request.json: {"texts": [...]} as ASCII JSON (lone surrogates survive as \u escapes).
// Prints {"version", "rows": [{label, probabilities}, ...]}.
import fs from "node:fs";
import process from "node:process";
import { classify, loadStudent } from "../student.js";
import { runtime } from "./runtimes.js";

async function main() {
  const [client, modelFile, requestFile] = process.argv.slice(2);
  const rt = await runtime(client);
  const model = await loadStudent(rt.ort, fs.readFileSync(modelFile), modelFile, rt.options);
  const { texts } = JSON.parse(fs.readFileSync(requestFile, "ascii"));
  const rows = await classify(rt.ort, model, texts);
  process.stdout.write(JSON.stringify({ version: rt.version, rows }));
}

main().catch((err) => { console.error(`classify.js: error: ${err.message}`); process.exit(2); });
