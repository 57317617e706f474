#!/usr/bin/env node
// `npm run demo`: the main job on the bundled example model (examples/models/tiny-cnn, a small CNN with
// random weights whose expected output came from ONNX Runtime): inspect it, check every pass on it, and
// run it on each target this machine has, comparing with ONNX Runtime's numbers.
import { spawnSync } from 'node:child_process';

const model = 'examples/models/tiny-cnn';
const steps = [
  ['inspect', `${model}/model.onnx`],
  ['verify', `${model}/model.onnx`, '--data', model],
  ['test', model, '--target', 'interp'],
];
for (const target of ['kir', 'cpu', 'wgsl', 'ptx']) {
  const probe = spawnSync(process.execPath, ['bin/aic.js', 'test', model, '--target', target, '--json'], { encoding: 'utf8' });
  if (!/unknown target/.test(probe.stderr)) steps.push(['test', model, '--target', target]);
}

let failed = 0;
for (const args of steps) {
  console.log(`\n$ aic ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['bin/aic.js', ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
console.log(failed === 0 ? '\ndemo: every step succeeded' : `\ndemo: ${failed} step(s) failed`);
process.exit(failed === 0 ? 0 : 1);
