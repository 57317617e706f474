import { it } from 'vitest';
import { GraphBuilder } from '../../src/ir/builder.js';
import { scheduleGraph } from '../../src/passes/schedule/index.js';
import { printProgram } from '../../src/kernel/printer.js';
import { runProgram, kernelJavaScript } from '../../src/kernel/interpreter.js';
import { interpret } from '../../src/runtime/interpreter.js';
import { Tensor } from '../../src/ir/tensor.js';

it('softmax', () => {
  const b = new GraphBuilder('softmax');
  const x = b.input('x', 'f32', [2, 8]);
  const e = b.exp(b.sub(x, b.reduce('max', x, [1], true)));
  b.output(b.div(e, b.reduce('sum', e, [1], true)), 'y');
  const g = b.build();
  const s = scheduleGraph(g);
  console.log(printProgram(s.program));
  console.log(s.decisions);
  const k = s.program.kernels[0]!;
  if (k.kind === 'loop') console.log(kernelJavaScript(k, s.program.buffers));
  const xin = Tensor.from('f32', [2, 8], Array.from({ length: 16 }, (_, i) => Math.sin(i)));
  console.log(runProgram(s.program, [xin])[0]!.toString());
  console.log(interpret(g, [xin])[0]!.toString());
});
