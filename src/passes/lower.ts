// lower: every onnx.* node becomes its decomposition into prims (the rule in its ONNX op's table entry).
//
//   %y = onnx.Relu(%x) {opset=14} : f32[2,3]
// becomes
//   %0 = prim.const() {value=dense<f32[]: [0.0]>} : f32[]
//   %y = prim.max(%x, %0) : f32[2,3]
import { lowerGraph } from '../frontend/onnx/lower-graph.js';
import { registerPass } from './pass.js';

export const lowerPass = registerPass({
  name: 'lower',
  description: 'decompose ONNX ops into prims (folding what is constant)',
  run: (g, ctx) => lowerGraph(g, new Map(), ctx.opsets),
});
