// Scheduling and planning the nine light CNNs of the ONNX test data: every plan is valid, the arena is within
// 10% of the lower bound (the most bytes live at once), and densenet121 (1,746 ONNX nodes) schedules and plans
// in well under 2 s. (That their Programs compute the expected outputs is test/conformance/kir.test.ts.)
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadModel } from '../../src/driver/model-file.js';
import { lowerModel } from '../../src/driver/targets.js';
import { scheduleGraph } from '../../src/passes/schedule/index.js';
import { checkPlan, planMemory } from '../../src/passes/memory-plan.js';

const dir = fileURLToPath(new URL('../../../shared/onnx-tests/light', import.meta.url));
const models = existsSync(dir) ? readdirSync(dir).filter((f) => /^light_.+\.onnx$/.test(f)).sort() : [];
if (models.length === 0) console.log(`skipped: light models not found in ${dir}`);

describe.skipIf(models.length === 0)('light models: schedule and memory plan', () => {
  it('finds the nine models', () => {
    expect(models.length).toBe(9);
  });

  it.each(models)('%s: valid plan, arena <= 1.10 x lower bound', (file) => {
    const g = lowerModel(loadModel(join(dir, file)), 'kir');
    const cpu0 = process.cpuUsage();
    const s = scheduleGraph(g);
    const { program, plan } = planMemory(s.program);
    const cpu = process.cpuUsage(cpu0);
    const ms = (cpu.user + cpu.system) / 1000;
    checkPlan(program, plan);
    expect(plan.arenaBytes).toBeLessThanOrEqual(Math.ceil(1.1 * plan.lowerBoundBytes));
    expect(plan.arenaBytes).toBeLessThan(plan.naiveBytes);
    if (file === 'light_densenet121.onnx') {
      expect(g.nodes.length).toBeGreaterThan(1746);
      // CPU time of this process (wall time on a loaded machine says little); typically ~0.5 s.
      expect(ms).toBeLessThan(2000);
    }
  }, 300_000);
});
