#!/usr/bin/env node
// Run the student's two text ops alone on every code point in one onnxruntime client, so the
// exporter's table of platform differences can be measured (exporters/platform_ops.py):
//
//   node tools/probe_ops.js node|web lower.onnx word.onnx > probe.json
//
// lower.onnx: StringNormalizer(LOWER) on each code point; reported: the code points whose
// output differs from the input, with the output. word.onnx: the Tokenizer on "ab" + c + "cd";
// reported: the code points kept inside one token (word characters). U+0000 and surrogates
// are left out (the input cleaning replaces them before any client sees them).
import fs from "node:fs";
import process from "node:process";
import { runtime } from "./runtimes.js";

const BATCH = 65536;

function codePoints() {
  const out = [];
  for (let c = 1; c <= 0x10ffff; c++) if (c < 0xd800 || c > 0xdfff) out.push(c);
  return out;
}

async function probe(rt, file, texts, onRow) {
  const session = await rt.ort.InferenceSession.create(fs.readFileSync(file), rt.options);
  for (let i = 0; i < texts.length; i += BATCH) {
    const batch = texts.slice(i, i + BATCH);
    const out = await session.run({ x: new rt.ort.Tensor("string", batch, [batch.length]) });
    const width = out.y.dims.length === 2 ? out.y.dims[1] : 1;
    for (let j = 0; j < batch.length; j++) onRow(i + j, out.y.data.slice(j * width, (j + 1) * width));
  }
  await session.release();
}

async function main() {
  const [client, lowerFile, wordFile] = process.argv.slice(2);
  const rt = await runtime(client);
  const cps = codePoints();
  const lower = [];
  await probe(rt, lowerFile, cps.map((c) => String.fromCodePoint(c)), (i, [y]) => {
    if (y !== String.fromCodePoint(cps[i])) lower.push([cps[i], Array.from(y, (ch) => ch.codePointAt(0))]);
  });
  const word = [];
  await probe(rt, wordFile, cps.map((c) => "ab" + String.fromCodePoint(c) + "cd"), (i, row) => {
    if (row[0].length > 2) word.push(cps[i]);
  });
  const info = { client, version: rt.version, node: process.version, platform: `${process.platform}-${process.arch}` };
  process.stdout.write(JSON.stringify({ ...info, lower, word }));
}

main().catch((err) => { console.error(`probe_ops.js: error: ${err.message}`); process.exit(2); });
