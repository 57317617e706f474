// Which ONNX ops the frontend can import: those with a lowering rule for the model's opset.
import { findOnnxOp } from './registry.js';
import './ops/index.js';

/**
 * True when aic imports `opType` of `domain` at `opset` (the model's import for that domain).
 * `domain` is '' for the default ONNX domain ('ai.onnx' is normalized to '').
 */
export function isOnnxOpSupported(domain: string, opType: string, opset: number): boolean {
  return findOnnxOp(domain, opType, opset) !== undefined;
}
