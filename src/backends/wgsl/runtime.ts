/// <reference types="@webgpu/types" />
// The host side of a compiled WGSL model: given a GPUDevice, the plan (plan.json), the shaders and the
// weights, it creates the buffers, uploads the weights, creates every pipeline once, and on each run writes
// the inputs, records one compute pass with every dispatch, and reads the outputs back. The same code runs in
// a browser (navigator.gpu) and in Node (the `webgpu` package, Dawn).
//
// It is one self-contained class on purpose: `aic compile --target wgsl` writes its source into the
// artifact's run.js (WgslModel.toString()), so the artifact runs without aic. Nothing here may refer to
// anything outside the class (only the WebGPU API and JavaScript globals).
//
// Errors are never silent: a shader that does not compile names its kernel and line (getCompilationInfo), a
// pipeline or dispatch that WebGPU rejects is reported from an error scope, and a kernel's failed check
// (a gather index out of range) sets a status word that the run turns into an error naming the check.

/** The JSON plan an artifact carries (plan.json). */
export interface WgslPlan {
  readonly format: 'aic-wgsl/1';
  readonly name: string;
  /** GPU buffers; kernels bind whole segments as array<u32>. */
  readonly segments: readonly { readonly name: string; readonly role: 'weights' | 'io' | 'arena'; readonly words: number; readonly binOffset?: number }[];
  /** Every tensor: where it lives (segment, offset in words), its dtype and shape. */
  readonly buffers: readonly WgslPlanBuffer[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly kernels: readonly WgslPlanKernel[];
  /** Messages of the kernels' checks, by status value - 1. */
  readonly checks: readonly string[];
  readonly weightsBytes: number;
}

export interface WgslPlanBuffer {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly role: string;
  readonly label?: string;
  readonly segment: string;
  readonly offset: number;
  readonly elements: number;
}

export interface WgslPlanKernel {
  readonly name: string;
  readonly note?: string;
  /** The shader's file name in the artifact. */
  readonly file: string;
  readonly bindings: readonly { readonly binding: number; readonly segment: string; readonly access: 'read' | 'read_write' }[];
  /** threads: one invocation per point (workgroups = ceil(count / WG)); groups: one workgroup per point. */
  readonly dispatch: { readonly kind: 'threads' | 'groups'; readonly count: number };
  /** Set when the shader fixes its workgroup size; otherwise the override WG is chosen from the device. */
  readonly workgroupSize?: number;
}

/** Element arrays of each dtype as the host holds them (f16/bf16 as Float32Array values, bool as bytes). */
export type HostArray =
  | Float32Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | BigInt64Array | BigUint64Array;

export interface WgslRunResult {
  readonly outputs: HostArray[];
  /** Milliseconds from the first write to the outputs read back. */
  readonly ms: number;
}

interface Compiled {
  readonly kernel: WgslPlanKernel;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly groups: [number, number, number];
}

export class WgslModel {
  private constructor(
    readonly device: GPUDevice,
    readonly plan: WgslPlan,
    private readonly segments: Map<string, GPUBuffer>,
    private readonly compiled: Compiled[],
    private readonly readback: GPUBuffer,
    /** Byte position of each output in the readback buffer, then the status word. */
    private readonly outputAt: number[],
    private readonly statusAt: number,
    /** The workgroup sizes chosen for this device. */
    readonly workgroupSizes: { readonly threads: number; readonly groups: number },
  ) {}

  /** Limits a device needs for a plan (pass them to adapter.requestDevice), within what the adapter has. */
  static requiredLimits(plan: WgslPlan, adapter: GPUAdapter): Record<string, number> {
    const biggest = Math.max(16, ...plan.segments.map((s) => s.words * 4));
    const bindings = Math.max(1, ...plan.kernels.map((k) => k.bindings.length));
    const want: Record<string, number> = {
      maxStorageBufferBindingSize: biggest,
      maxBufferSize: biggest,
      maxStorageBuffersPerShaderStage: bindings,
      maxComputeInvocationsPerWorkgroup: 256,
      maxComputeWorkgroupSizeX: 256,
    };
    const out: Record<string, number> = {};
    const have = adapter.limits as unknown as Record<string, number>;
    for (const [k, v] of Object.entries(want)) if (have[k] !== undefined) out[k] = Math.min(have[k], Math.max(v, 0));
    return out;
  }

  /** An adapter and a device for a plan: the default adapter, else a compatibility one (OpenGL ES, Mesa). */
  static async requestDevice(gpu: GPU, plan: WgslPlan): Promise<GPUDevice> {
    const adapter = (await gpu.requestAdapter()) ?? (await gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions));
    if (!adapter) throw WgslModel.error('no WebGPU adapter is available');
    return adapter.requestDevice({ requiredLimits: WgslModel.requiredLimits(plan, adapter) });
  }

  /** Compile the shaders, create the pipelines and buffers, upload the weights. */
  static async create(device: GPUDevice, plan: WgslPlan, shaders: (file: string) => string, weights: Uint8Array): Promise<WgslModel> {
    if (plan.format !== 'aic-wgsl/1') throw WgslModel.error(`unknown plan format ${String(plan.format)}`);
    const lim = device.limits;
    const pow2 = (n: number): number => 2 ** Math.floor(Math.log2(Math.max(1, n)));
    const maxWg = pow2(Math.min(lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX));
    const sizes = { threads: Math.min(128, maxWg), groups: Math.min(256, maxWg) };
    for (const s of plan.segments) {
      if (s.words * 4 > lim.maxStorageBufferBindingSize) {
        throw WgslModel.error(`segment ${s.name} needs ${s.words * 4} bytes in one binding; this device allows ${lim.maxStorageBufferBindingSize}`);
      }
    }
    if (weights.byteLength < plan.weightsBytes) throw WgslModel.error(`weights: ${weights.byteLength} bytes, the plan needs ${plan.weightsBytes}`);

    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    const STORAGE = 0x80;
    const COPY_SRC = 0x4;
    const COPY_DST = 0x8;
    const MAP_READ = 0x1;
    const segments = new Map<string, GPUBuffer>();
    for (const s of plan.segments) {
      const buffer = device.createBuffer({ label: s.name, size: Math.max(16, s.words * 4), usage: STORAGE | COPY_SRC | COPY_DST });
      segments.set(s.name, buffer);
      if (s.role === 'weights') device.queue.writeBuffer(buffer, 0, weights, s.binOffset ?? 0, s.words * 4);
    }
    segments.set('status', device.createBuffer({ label: 'status', size: 16, usage: STORAGE | COPY_SRC | COPY_DST }));
    const place = new Map(plan.buffers.map((b) => [b.name, b]));
    const outputAt: number[] = [];
    let bytes = 0;
    for (const name of plan.outputs) {
      outputAt.push(bytes);
      bytes += Math.ceil((place.get(name)?.elements ?? 0) * WgslModel.wordsPer(place.get(name)?.dtype ?? 'f32') * 4 / 16) * 16;
    }
    const statusAt = bytes;
    const readback = device.createBuffer({ label: 'readback', size: bytes + 16, usage: MAP_READ | COPY_DST });
    const oom = await device.popErrorScope();
    const invalid = await device.popErrorScope();
    if (oom || invalid) throw WgslModel.error(`creating buffers: ${(oom ?? invalid)!.message}`);

    // Shaders: compile all, then report the first error with its kernel, line and source line (the error
    // scope keeps Dawn from also printing it).
    device.pushErrorScope('validation');
    const modules = plan.kernels.map((k) => {
      const code = shaders(k.file);
      return { k, code, module: device.createShaderModule({ label: k.name, code }) };
    });
    const moduleError = device.popErrorScope();
    for (const { k, code, module } of modules) {
      const info = await module.getCompilationInfo();
      const err = info.messages.find((m) => m.type === 'error');
      if (err) {
        const text = code.split('\n')[err.lineNum - 1] ?? '';
        const e = WgslModel.error(`kernel ${k.name}${k.note ? ` (${k.note})` : ''}: WGSL error at line ${err.lineNum}:${err.linePos}: ${err.message}\n  ${text.trim()}`);
        Object.assign(e, { kernel: k.name, line: err.lineNum });
        throw e;
      }
    }
    const invalidModule = await moduleError;
    if (invalidModule) throw WgslModel.error(`shader modules: ${invalidModule.message}`);
    const compiled: Compiled[] = [];
    for (const { k, module } of modules) {
      device.pushErrorScope('validation');
      const wg = k.workgroupSize ?? (k.dispatch.kind === 'threads' ? sizes.threads : sizes.groups);
      let pipeline: GPUComputePipeline;
      try {
        pipeline = await device.createComputePipelineAsync({
          label: k.name,
          layout: 'auto',
          compute: { module, entryPoint: 'main', ...(k.workgroupSize === undefined ? { constants: { WG: wg } } : {}) },
        });
      } catch (e) {
        await device.popErrorScope();
        throw WgslModel.error(`kernel ${k.name}${k.note ? ` (${k.note})` : ''}: pipeline: ${(e as Error).message}`);
      }
      const bindGroup = device.createBindGroup({
        label: k.name,
        layout: pipeline.getBindGroupLayout(0),
        entries: k.bindings.map((b) => ({ binding: b.binding, resource: { buffer: segments.get(b.segment)! } })),
      });
      const err = await device.popErrorScope();
      if (err) throw WgslModel.error(`kernel ${k.name}${k.note ? ` (${k.note})` : ''}: ${err.message}`);
      const total = k.dispatch.kind === 'threads' ? Math.ceil(k.dispatch.count / wg) : k.dispatch.count;
      compiled.push({ kernel: k, pipeline, bindGroup, groups: WgslModel.grid(total, lim.maxComputeWorkgroupsPerDimension) });
    }
    return new WgslModel(device, plan, segments, compiled, readback, outputAt, statusAt, sizes);
  }

  /** Workgroups as (x, y, z), each at most `max`, with x·y·z >= total (shaders skip the extra ones). */
  static grid(total: number, max: number): [number, number, number] {
    if (total <= max) return [total, 1, 1];
    const x = max;
    const rest = Math.ceil(total / x);
    if (rest <= max) return [x, rest, 1];
    const y = max;
    const z = Math.ceil(rest / y);
    if (z > max) throw WgslModel.error(`${total} workgroups are more than a dispatch can hold`);
    return [x, y, z];
  }

  /** Run on inputs in the order of plan.inputs; outputs in the order of plan.outputs. */
  async run(inputs: readonly HostArray[]): Promise<WgslRunResult> {
    // One run at a time: the readback buffer is mapped by each.
    const turn = this.busy.then(() => this.runNow(inputs));
    this.busy = turn.catch(() => undefined);
    return turn;
  }

  private busy: Promise<unknown> = Promise.resolve();

  private async runNow(inputs: readonly HostArray[]): Promise<WgslRunResult> {
    const { device, plan } = this;
    if (inputs.length !== plan.inputs.length) throw WgslModel.error(`the model takes ${plan.inputs.length} inputs, got ${inputs.length}`);
    const start = performance.now();
    const place = new Map(plan.buffers.map((b) => [b.name, b]));
    const words = plan.inputs.map((name, i) => {
      const b = place.get(name)!;
      const data = inputs[i]!;
      if (data.length !== b.elements) throw WgslModel.error(`input ${i} (${b.label ?? name}): ${data.length} elements, expected ${b.elements}`);
      return WgslModel.toWords(b.dtype, data);
    });
    device.pushErrorScope('validation');
    plan.inputs.forEach((name, i) => {
      const b = place.get(name)!;
      if (words[i]!.byteLength > 0) device.queue.writeBuffer(this.segments.get(b.segment)!, b.offset * 4, words[i]!);
    });
    device.queue.writeBuffer(this.segments.get('status')!, 0, new Uint32Array(4));
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    for (const c of this.compiled) {
      if (c.groups[0] === 0) continue;
      pass.setPipeline(c.pipeline);
      pass.setBindGroup(0, c.bindGroup);
      pass.dispatchWorkgroups(...c.groups);
    }
    pass.end();
    plan.outputs.forEach((name, i) => {
      const b = place.get(name)!;
      const bytes = b.elements * WgslModel.wordsPer(b.dtype) * 4;
      if (bytes > 0) enc.copyBufferToBuffer(this.segments.get(b.segment)!, b.offset * 4, this.readback, this.outputAt[i]!, bytes);
    });
    enc.copyBufferToBuffer(this.segments.get('status')!, 0, this.readback, this.statusAt, 16);
    device.queue.submit([enc.finish()]);
    const err = await device.popErrorScope();
    if (err) throw WgslModel.error(`running: ${err.message}`);
    await this.readback.mapAsync(0x1);
    let outputs: HostArray[];
    let status: number;
    try {
      const mapped = this.readback.getMappedRange();
      status = new Uint32Array(mapped, this.statusAt, 1)[0]!;
      outputs = plan.outputs.map((name, i) => {
        const b = place.get(name)!;
        const words = new Uint32Array(mapped.slice(this.outputAt[i]!, this.outputAt[i]! + b.elements * WgslModel.wordsPer(b.dtype) * 4));
        return WgslModel.fromWords(b.dtype, words, b.elements);
      });
    } finally {
      this.readback.unmap();
    }
    if (status !== 0) throw WgslModel.error(plan.checks[status - 1] ?? `a kernel check failed (status ${status})`, 'check');
    return { outputs, ms: performance.now() - start };
  }

  /** Free the GPU buffers (the device stays). */
  destroy(): void {
    for (const b of this.segments.values()) b.destroy();
    this.readback.destroy();
  }

  // ---- element formats: every dtype as 32-bit words ----

  static wordsPer(dtype: string): number {
    return dtype === 'i64' || dtype === 'u64' ? 2 : 1;
  }

  /** Host elements as GPU words (bool and 8/16-bit ints widened; 64-bit ints and 32-bit types as their bytes). */
  static toWords(_dtype: string, data: HostArray): Uint32Array {
    if (data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint32Array
      || data instanceof BigInt64Array || data instanceof BigUint64Array) {
      return new Uint32Array(data.buffer, data.byteOffset, data.byteLength / 4);
    }
    // Uint32Array.from keeps a negative value's two's-complement bits: the sign extension of i8/i16/i4/i2.
    return Uint32Array.from(data as Uint8Array);
  }

  /** GPU words as host elements of a dtype. */
  static fromWords(dtype: string, words: Uint32Array, elements: number): HostArray {
    const buf = words.buffer.slice(words.byteOffset, words.byteOffset + words.byteLength);
    switch (dtype) {
      case 'i32': return new Int32Array(buf, 0, elements);
      case 'u32': return new Uint32Array(buf, 0, elements);
      case 'i64': return new BigInt64Array(buf, 0, elements);
      case 'u64': return new BigUint64Array(buf, 0, elements);
      case 'i8': case 'i4': case 'i2': return Int8Array.from(new Int32Array(buf, 0, elements));
      case 'i16': return Int16Array.from(new Int32Array(buf, 0, elements));
      case 'u16': return Uint16Array.from(new Uint32Array(buf, 0, elements));
      case 'u8': case 'u4': case 'u2': case 'bool': return Uint8Array.from(new Uint32Array(buf, 0, elements));
      default:
        // f32, and the floats held as the f32 they equal: f16, bf16, float8, float4.
        if (/^f(32|16|8|4)|^bf16$/.test(dtype)) return new Float32Array(buf, 0, elements);
        throw WgslModel.error(`dtype ${dtype} has no GPU format`);
    }
  }

  static error(message: string, kind = 'wgsl'): Error {
    const e = new Error(message);
    e.name = kind === 'check' ? 'WgslCheckError' : 'WgslError';
    return e;
  }
}
