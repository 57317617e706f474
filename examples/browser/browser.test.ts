// The browser example in headless Chromium: the page imports aic's compiler core from dist/, compiles the
// example CNN to WGSL, compiles every shader on the page's WebGPU device (SwiftShader, software) and runs
// it on inputs i/n; the outputs match the interpreter's. A second model has a NonZero, which runs on the
// page's JavaScript between GPU steps (WgslRunner). Skips (saying why) without Chromium, playwright-core or dist/.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/driver/model-file.js';
import { lowerModel } from '../../src/driver/targets.js';
import { interpret } from '../../src/runtime/interpreter.js';
import { Tensor } from '../../src/ir/tensor.js';
import { A } from '../../src/ir/attr.js';
import { OnnxModelBuilder } from '../../src/frontend/onnx/writer.js';
import { decodeModelProto } from '../../src/frontend/onnx/decode.js';
import { importModel } from '../../src/frontend/onnx/import.js';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('../../', import.meta.url));
const model = `${root}examples/models/tiny-cnn/model.onnx`;

let playwright: typeof import('playwright-core') | undefined;
try {
  playwright = await import('playwright-core');
} catch {
  playwright = undefined;
}
const why = !existsSync(CHROMIUM) ? `no ${CHROMIUM}` : !playwright ? 'no playwright-core' : !existsSync(`${root}dist/backends/wgsl/emit.js`) ? 'no dist/ (npm run build)' : undefined;
if (why) console.log(`skipped: browser example (${why})`);

interface PageResult {
  error?: string;
  kernels: number;
  hostSteps: number;
  validated: boolean;
  shaders: string[];
  outputs?: { name: string; shape: number[]; first: number[] }[];
}

describe.skipIf(why !== undefined)('browser example in headless Chromium', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  /** Serve the page, open it in Chromium and compile (and run) a model there. */
  async function inPage(bytes: Uint8Array, name: string): Promise<PageResult> {
    if (!server) {
      // @ts-expect-error: a plain JavaScript module without declarations
      const { startServer } = (await import('./serve.js')) as { startServer(port?: number): Promise<Server> };
      server = await startServer(0);
    }
    const port = (server.address() as { port: number }).port;
    const browser = await playwright!.chromium.launch({
      executablePath: CHROMIUM,
      // The brief's flags, plus WebGPU on SwiftShader (software): without a GPU, Chromium has no adapter otherwise.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (globalThis as unknown as { aicReady?: boolean }).aicReady === true, undefined, { timeout: 30_000 });
      expect(errors).toEqual([]);
      return await page.evaluate(async ([b, n]) => {
        const w = globalThis as unknown as { aicCompile(b: number[], n: string): Promise<PageResult> };
        try {
          return await w.aicCompile(b as number[], n as string);
        } catch (e) {
          return { error: String((e as Error).message ?? e) } as PageResult;
        }
      }, [[...bytes], name] as const);
    } finally {
      await browser.close();
    }
  }

  /** The page's inputs, i/n (a symbolic dim taken as 1). */
  const pageInputs = (m: ReturnType<typeof loadModel>): Tensor[] => m.graph.inputs.map((v) => {
    const shape = v.shape.map((d) => (typeof d === 'number' ? d : 1));
    const n = shape.reduce((p, d) => p * d, 1);
    return Tensor.from('f32', shape, Array.from({ length: n }, (_, i) => Math.fround(i / n)));
  });

  it('compiles a model to WGSL, validates its shaders on WebGPU and runs it in the page', async () => {
    const r = await inPage(readFileSync(model), 'tiny-cnn.onnx');
    expect(r.error).toBeUndefined();
    expect(r.kernels).toBeGreaterThan(1);
    expect(r.hostSteps).toBe(0);
    expect(r.shaders[0]).toContain('@compute');
    expect(r.validated).toBe(true);
    const m = loadModel(model);
    const want = interpret(lowerModel(m), pageInputs(m))[0]!;
    const first = r.outputs![0]!;
    expect(first.shape).toEqual(want.shape);
    first.first.forEach((x, i) => expect(Math.abs(x - Number(want.data[i]))).toBeLessThan(1e-3 + 1e-3 * Math.abs(Number(want.data[i]))));
  }, 180_000);

  it('runs a model with a NonZero: GPU kernels, the count on the host, the kernel after it sized to it', async () => {
    // y = float(nonzero(relu(x - 0.5))) * 2: with x = i/12, the 5 elements past the middle.
    const b = new OnnxModelBuilder({ opset: 17 });
    const x = b.input('x', 'f32', [3, 4]);
    const half = b.initializer('half', Tensor.scalar('f32', 0.5));
    const two = b.initializer('two', Tensor.scalar('f32', 2));
    const nz = b.node('NonZero', [b.node('Relu', [b.node('Sub', [x, half])])]);
    b.output(b.node('Mul', [b.node('Cast', [nz], { to: A.int(1) }), two]), 'f32');
    const bytes = b.toBytes();
    const r = await inPage(bytes, 'nonzero.onnx');
    expect(r.error).toBeUndefined();
    expect(r.hostSteps).toBe(1);
    expect(r.validated).toBe(true);
    const m = importModel(decodeModelProto(bytes, 'nonzero.onnx'), { where: 'nonzero.onnx' });
    const want = interpret(lowerModel(m), pageInputs(m))[0]!;
    expect(want.shape).toEqual([2, 5]);
    expect(r.outputs![0]!.shape).toEqual(want.shape);
    expect(r.outputs![0]!.first).toEqual([...want.data].slice(0, 8).map(Number));
  }, 180_000);
});
