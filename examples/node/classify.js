#!/usr/bin/env node
// Classify texts with an edge-distill student.onnx from Node.js (onnxruntime-node only).
//
//   node classify.js student.onnx "A wonderful film." "Dull and far too long."
//   cat texts.jsonl | node classify.js student.onnx        # {"text": ...} per line
//
// Prints one JSON line per text: {"label": ..., "probabilities": {class: p, ...}}, like
// `edge-distill predict`. The graph does all the text processing; ../web/student.js (shared
// with the web page) reads the class names from the model's metadata, checks its sha256
// checksum as the Python runtime does, and cleans each text with ../web/clean.js.
"use strict";

const fs = require("fs");
const readline = require("readline");
const ort = require("onnxruntime-node");

const shared = import("../web/student.js");

async function load(path) {
  const { loadStudent } = await shared;
  const opts = { executionProviders: ["cpu"], intraOpNumThreads: 1, graphOptimizationLevel: "all" };
  return loadStudent(ort, fs.readFileSync(path), path, opts);
}

async function classify(model, texts) {
  return (await shared).classify(ort, model, texts);
}

async function readStdin() {
  const texts = [];
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) if (line.trim()) texts.push(JSON.parse(line).text);
  return texts;
}

async function main() {
  const [path, ...args] = process.argv.slice(2);
  if (!path) {
    console.error("usage: node classify.js student.onnx [TEXT ...]   (or JSON Lines on stdin)");
    process.exit(2);
  }
  const model = await load(path);
  const texts = args.length ? args : await readStdin();
  for (const row of await classify(model, texts)) process.stdout.write(JSON.stringify(row) + "\n");
}

module.exports = { load, classify };

if (require.main === module) {
  main().catch((err) => { console.error(`classify.js: error: ${err.message}`); process.exit(2); });
}
