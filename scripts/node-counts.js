#!/usr/bin/env node
// Node counts of the light models through the pipeline (README table): ONNX nodes, prims after lowering,
// and nodes after canonicalization. Run after `npm run build`.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../dist/driver/model-file.js';
import { PassManager } from '../dist/passes/manager.js';
import { CANONICALIZE } from '../dist/passes/builtin.js';

const dir = process.argv[2] ?? '../shared/onnx-tests/light';
console.log('| model | ONNX nodes | prims after `lower` | after canonicalization | lower + canonicalize ms |\n|---|---|---|---|---|');
for (const f of readdirSync(dir).filter((x) => x.endsWith('.onnx')).sort()) {
  const m = loadModel(join(dir, f));
  const { timings } = new PassManager(`lower,${CANONICALIZE}`).run(m.graph, { opsets: m.opsets, target: 'interp' });
  const ms = timings.reduce((a, t) => a + t.ms, 0);
  console.log(`| ${f.replace('.onnx', '')} | ${m.onnxNodes} | ${timings[0].nodes} | ${timings[timings.length - 1].nodes} | ${ms.toFixed(0)} |`);
}
