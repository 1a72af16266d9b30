#!/usr/bin/env node
// Copy onnxruntime-web's plain WASM build (installed by `npm ci`) into vendor/, next to the
// page, so the folder works from any static file server with no build step. The WebGPU/JSEP
// builds are not used: they drop string tensors and the ai.onnx.ml ops the student needs.
// Files get a .js name (some servers do not know .mjs, and browsers refuse a module script
// served with another type).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "node_modules", "onnxruntime-web", "dist");
const vendor = path.join(here, "vendor");
const FILES = { "ort.wasm.bundle.min.mjs": "ort.wasm.bundle.min.js", "ort-wasm-simd-threaded.wasm": "ort-wasm-simd-threaded.wasm" };

if (!fs.existsSync(dist)) {
  console.error(`vendor.js: error: ${dist} is missing; run 'npm ci' in ${here} first`);
  process.exit(2);
}
fs.mkdirSync(vendor, { recursive: true });
for (const [from, to] of Object.entries(FILES)) fs.copyFileSync(path.join(dist, from), path.join(vendor, to));
const { version } = JSON.parse(fs.readFileSync(path.join(dist, "..", "package.json"), "utf8"));
fs.writeFileSync(path.join(vendor, "VERSION"), `onnxruntime-web ${version}\n`);
console.log(`vendor.js: onnxruntime-web ${version} (WASM) copied to ${vendor}`);
