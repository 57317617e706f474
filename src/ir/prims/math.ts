// Scalar functions JavaScript's Math lacks, accurate to double precision (they are the reference).

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** Error function. |x| < 3: the series e^{-x²}·Σ 2ⁿx^{2n+1}/(2n+1)!! (all terms positive, so no
 * cancellation); 3 ≤ |x| < 6: erfc by its continued fraction; beyond, ±1 in double precision. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  let r: number;
  if (ax < 3) {
    const x2 = ax * ax;
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 300; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term <= sum * 1e-17) break;
    }
    r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  } else if (ax < 6) {
    let t = ax;
    for (let n = 60; n >= 1; n--) t = ax + n / 2 / t;
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / t;
  } else {
    r = 1;
  }
  return x < 0 || Object.is(x, -0) ? -r : r;
}

/** Round half to even (IEEE roundTiesToEven, numpy.round), keeping the sign of zero. */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}
