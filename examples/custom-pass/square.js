// A pass as a plugin: pow(x, 2) becomes x * x (cheaper on every target, and exact).
// Load it with:  aic --plugin examples/custom-pass/square.js verify model.onnx --passes lower,square,dce
//
//   %c = prim.const() {value=dense<f32[]: [2.0]>} : f32[]
//   %y = prim.pow(%x, %c) : f32[8]
// becomes
//   %y = prim.mul(%x, %x) : f32[8]

/** @param {typeof import('../../dist/index.js')} aic */
export default function register(aic) {
  aic.registerPass(squarePass(aic));
}

/** @param {typeof import('../../dist/index.js')} aic @returns {import('../../dist/index.js').Pass} */
export function squarePass(aic) {
  /** @type {import('../../dist/index.js').Rule} */
  const rule = {
    name: 'pow-two',
    ops: ['prim.pow'],
    apply(c, b) {
      const [x, e] = c.inputs;
      const t = e ? aic.constantOf(e) : undefined;
      // Only when every exponent is 2 and x already has the result's shape (no broadcasting by the exponent).
      if (!x || !t || t.size === 0 || t.toNumbers().some((v) => v !== 2)) return undefined;
      if (x.shape.length !== c.type.shape.length || x.shape.some((d, i) => d !== c.type.shape[i])) return undefined;
      return b.mul(x, x);
    },
  };
  return {
    name: 'square',
    description: 'pow(x, 2) -> x * x',
    run: (g) => aic.rewriteGraph(g, [rule]).graph,
  };
}
