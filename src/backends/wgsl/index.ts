// The WGSL backend: a Program as WebGPU compute shaders. `emit` writes the artifact of
// `aic compile --target wgsl`:
//
//   k0.wgsl, k1.wgsl, …   one compute shader per loop kernel
//   plan.json             segments, where every tensor lives, each kernel's bindings and dispatch
//   weights.bin           the weights as GPU words (plan.json says which bytes go to which segment)
//   run.js                an ES module that loads and runs the rest on a GPUDevice, without aic
//
// Running needs a GPUDevice: a browser's navigator.gpu, or Node's `webgpu` package (src/driver/webgpu.ts).
// WgslRunner (host.ts) runs any Program, its host steps included; run.js runs a Program of GPU kernels only.
import { addBackend, type Artifact, type Backend, type EmitOptions } from '../backend.js';
import type { Program } from '../../kernel/program.js';
import { emitWgsl, type WgslArtifact, type WgslEmitOptions } from './emit.js';
import { WgslModel } from './runtime.js';

export { emitWgsl, type WgslArtifact, type WgslEmitOptions } from './emit.js';
export { WgslModel, type WgslPlan, type HostArray, type WgslRunResult } from './runtime.js';
export { WgslRunner } from './host.js';

/** The artifact's run.js: the runtime class and a loader for the files beside it. */
export function runModuleSource(name: string): string {
  return `// Runs the model ${JSON.stringify(name)} on WebGPU; written by \`aic compile --target wgsl\`.
//
// In a browser:
//   import { loadModel } from './run.js';
//   const model = await loadModel(navigator.gpu);
//   const { outputs, ms } = await model.run([new Float32Array(...)]);   // inputs in plan.json's order
// In Node, with the \`webgpu\` package (Dawn):
//   import { create, globals } from 'webgpu';
//   Object.assign(globalThis, globals);
//   const gpu = create([]);   // keep it referenced while the model lives
//   const model = await loadModel(gpu);

export ${WgslModel.toString()}

/** plan.json, the shaders and weights.bin of the artifact at \`base\` (this folder by default). */
export async function loadArtifact(base = new URL('.', import.meta.url)) {
  const read = async (file, as) => {
    const url = new URL(file, base);
    if (url.protocol === 'file:') {
      const { readFile } = await import('node:fs/promises');
      const bytes = await readFile(url);
      return as === 'text' ? bytes.toString('utf8') : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    const res = await fetch(url);
    if (!res.ok) throw new Error(\`\${url}: \${res.status} \${res.statusText}\`);
    return as === 'text' ? res.text() : new Uint8Array(await res.arrayBuffer());
  };
  const plan = JSON.parse(await read('plan.json', 'text'));
  const shaders = new Map();
  for (const k of plan.kernels) shaders.set(k.file, await read(k.file, 'text'));
  const weights = plan.weightsBytes > 0 ? await read('weights.bin', 'bytes') : new Uint8Array(0);
  return { plan, shaders, weights };
}

/** The model, ready to run: a device with the limits it needs, pipelines created, weights uploaded. */
export async function loadModel(gpu, base) {
  const { plan, shaders, weights } = await loadArtifact(base);
  const device = await WgslModel.requestDevice(gpu, plan);
  return WgslModel.create(device, plan, (file) => shaders.get(file), weights);
}
`;
}

/** The artifact's files. */
export function artifactFiles(a: WgslArtifact): Map<string, string | Uint8Array> {
  const files = new Map<string, string | Uint8Array>();
  for (const [file, code] of a.shaders) files.set(file, code);
  files.set('plan.json', `${JSON.stringify(a.plan, null, 1)}\n`);
  files.set('weights.bin', a.weights);
  files.set('run.js', runModuleSource(a.plan.name));
  return files;
}

export const wgslBackend: Backend = addBackend({
  name: 'wgsl',
  description: 'WebGPU compute shaders (WGSL) and a host runtime for a GPUDevice (browser, or Node through Dawn)',
  emit(p: Program, opts?: EmitOptions): Artifact {
    const o: WgslEmitOptions = opts?.['tiledMatmul'] === false ? { tiledMatmul: false } : {};
    return { files: artifactFiles(emitWgsl(p, o)), main: 'run.js' };
  },
});
