// Issue #8's register budget: `ptxas -v` reports no spill stores or loads for any kernel of the light
// models (two here; `npm run conformance:ptx` and the README's table cover all nine), for sm_80 and sm_90.
import { describe, expect, test } from 'vitest';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../../src/driver/model-file.js';
import { compileModel } from '../../../src/driver/compile.js';
import { assemble } from '../../../src/backends/ptx/ptxas.js';
import '../../../src/driver/all-targets.js';
import { NO_PTXAS } from './ptxas.js';

const light = fileURLToPath(new URL('../../../../shared/onnx-tests/light', import.meta.url));
const data = existsSync(light);
if (!data) console.log(`skipped: ONNX test data not found at ${light}`);

describe.skipIf(!data || NO_PTXAS !== undefined)('ptx register use on the light models', () => {
  test.each(['squeezenet', 'resnet50'])('light_%s: no spills on sm_80 and sm_90', (name) => {
    const r = compileModel(loadModel(`${light}/light_${name}.onnx`), { target: 'ptx' });
    const ptx = r.files.get('kernels.ptx') as string;
    for (const t of ['sm_80', 'sm_90']) {
      const { entries } = assemble(ptx.replace(/^\.target sm_\d+$/m, `.target ${t}`), t);
      expect(entries.length).toBe(r.program.kernels.length);
      const spilling = entries.filter((e) => e.spillStores + e.spillLoads > 0).map((e) => `${e.entry}: ${e.spillStores}/${e.spillLoads} bytes`);
      expect(spilling, `kernels that spill on ${t}`).toEqual([]);
    }
  }, 120_000);
});
