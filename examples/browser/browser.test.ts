// The browser example in headless Chromium: the page imports aic's compiler core from dist/, compiles the
// example CNN to WGSL, compiles every shader on the page's WebGPU device (SwiftShader, software) and runs
// it on inputs i/n; the outputs match the interpreter's. Skips (saying why) without Chromium, playwright-core or dist/.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/driver/model-file.js';
import { lowerModel } from '../../src/driver/targets.js';
import { interpret } from '../../src/runtime/interpreter.js';
import { Tensor } from '../../src/ir/tensor.js';

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
  validated: boolean;
  shaders: string[];
  outputs?: { name: string; shape: number[]; first: number[] }[];
}

describe.skipIf(why !== undefined)('browser example in headless Chromium', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('compiles a model to WGSL, validates its shaders on WebGPU and runs it in the page', async () => {
    // @ts-expect-error: a plain JavaScript module without declarations
    const { startServer } = (await import('./serve.js')) as { startServer(port?: number): Promise<Server> };
    server = await startServer(0);
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
      const bytes = [...readFileSync(model)];
      const r = await page.evaluate(async ([b]) => {
        const w = globalThis as unknown as { aicCompile(b: number[], n: string): Promise<PageResult> };
        try {
          return await w.aicCompile(b!, 'tiny-cnn.onnx');
        } catch (e) {
          return { error: String((e as Error).message ?? e) } as PageResult;
        }
      }, [bytes] as const);
      expect(r.error).toBeUndefined();
      expect(r.kernels).toBeGreaterThan(1);
      expect(r.shaders[0]).toContain('@compute');
      expect(r.validated).toBe(true);
      const m = loadModel(model);
      const inputs = m.graph.inputs.map((v) => {
        const shape = v.shape.map((d) => (typeof d === 'number' ? d : 1)); // the page takes a symbolic dim as 1
        const n = shape.reduce((p, d) => p * d, 1);
        return Tensor.from('f32', shape, Array.from({ length: n }, (_, i) => Math.fround(i / n)));
      });
      const want = interpret(lowerModel(m), inputs)[0]!;
      const first = r.outputs![0]!;
      expect(first.shape).toEqual(want.shape);
      first.first.forEach((x, i) => expect(Math.abs(x - Number(want.data[i]))).toBeLessThan(1e-3 + 1e-3 * Math.abs(Number(want.data[i]))));
    } finally {
      await browser.close();
    }
  }, 180_000);
});
