// The WebGPU device tests run on (Node's `webgpu` package: a GPU, or Mesa's software OpenGL), and how a
// Program runs on it. Without one, the tests that need it print "skipped: webgpu not available" and skip.
import { nodeGpu, type NodeGpu } from '../../../src/driver/webgpu.js';
import { emitWgsl, type WgslEmitOptions } from '../../../src/backends/wgsl/emit.js';
import { WgslModel, type HostArray } from '../../../src/backends/wgsl/runtime.js';
import { wgslError } from '../../../src/driver/wgsl.js';
import type { Program } from '../../../src/kernel/program.js';
import { Tensor } from '../../../src/ir/tensor.js';

const got = await nodeGpu();
/** The device, or undefined (with the reason printed once). */
export const gpu: NodeGpu | undefined = typeof got === 'string' ? undefined : got;
if (!gpu) console.log(`skipped: webgpu not available (${String(got)})`);

/** Compile a Program for WGSL and run it on the test device. */
export async function runOnGpu(p: Program, inputs: readonly Tensor[], opts: WgslEmitOptions = {}): Promise<Tensor[]> {
  const a = emitWgsl(p, opts);
  let m: WgslModel | undefined;
  try {
    m = await WgslModel.create(gpu!.device, a.plan, (f) => a.shaders.get(f)!, a.weights);
    const r = await m.run(inputs.map((t) => t.data as HostArray));
    return r.outputs.map((data, i) => {
      const b = p.buffers.find((x) => x.name === p.outputs[i])!;
      return new Tensor(b.dtype, b.shape as number[], data);
    });
  } catch (e) {
    throw wgslError(e);
  } finally {
    m?.destroy();
  }
}
