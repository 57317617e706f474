// The ONNX op table. An ONNX op is one entry: its domain, type, the opset versions it covers, and its
// decomposition into prims. Type inference at import is the decomposition run on the operand types
// (with constant folding), so an op's shape rules and its semantics cannot disagree.
import type { Node, TensorType, Value } from '../../ir/graph.js';
import type { LowerContext } from './context.js';

export const DEFAULT_DOMAIN = '';
export const ML_DOMAIN = 'ai.onnx.ml';

/** The newest default-domain opset this version of aic knows. */
export const MAX_OPSET = 28;

/** The newest opset of each domain aic knows (where an op's range is open, it reaches this). */
export const NEWEST_OPSET: Readonly<Record<string, number>> = {
  '': MAX_OPSET, 'ai.onnx.ml': 5, 'ai.onnx.preview.training': 1, 'ai.onnx.preview': 1,
};

export interface OnnxOp {
  /** '' for the default domain (ai.onnx), else e.g. 'ai.onnx.ml'. */
  readonly domain?: string;
  readonly type: string;
  /** Opset versions covered, inclusive; the rule reads ctx.opset where semantics changed in between. */
  readonly since: number;
  readonly until?: number;
  /** Decompose ctx.node into prims with ctx.b; one value per ONNX output (null where an optional
   * output cannot be produced and is not used). */
  lower(ctx: LowerContext): (Value | null)[];
  /** For ops with bodies (Loop, Scan, If): by graph attribute name, the types of the body's inputs that
   * follow from the operands (null: keep the declared type), which the importer gives to body inputs
   * declared without a type or with a non-static shape; or 'unused' for a body the op will not run (an If
   * branch under a constant condition), which is then not imported. `node` holds the operands and the
   * other attributes. */
  subgraphInputs?(node: Node, operands: readonly (TensorType | null)[]): Readonly<Record<string, readonly (TensorType | null)[] | 'unused'>>;
}

const table = new Map<string, OnnxOp[]>();

const key = (domain: string, type: string): string => `${domain === 'ai.onnx' ? '' : domain}::${type}`;

export function defineOnnxOps(...ops: OnnxOp[]): void {
  for (const op of ops) {
    const k = key(op.domain ?? DEFAULT_DOMAIN, op.type);
    const list = table.get(k) ?? [];
    list.push(op);
    table.set(k, list);
  }
}

/** The rule for an op at an opset version, if aic supports it. */
export function findOnnxOp(domain: string, type: string, opset: number): OnnxOp | undefined {
  return table.get(key(domain, type))?.find((op) => opset >= op.since && opset <= (op.until ?? Infinity));
}

/** Every supported op with its opset range (for `aic ops`). */
export function supportedOnnxOps(): { domain: string; type: string; since: number; until: number | undefined }[] {
  const out: { domain: string; type: string; since: number; until: number | undefined }[] = [];
  for (const ops of table.values()) {
    for (const op of ops) out.push({ domain: op.domain ?? DEFAULT_DOMAIN, type: op.type, since: op.since, until: op.until });
  }
  return out.sort((a, b) => a.domain.localeCompare(b.domain) || a.type.localeCompare(b.type) || a.since - b.since);
}

/** The IR op name of an ONNX op: `onnx.Conv`, `onnx_ml.LabelEncoder`. */
export function irOpName(domain: string, type: string): string {
  if (domain === '' || domain === 'ai.onnx') return `onnx.${type}`;
  return `${domain.replace(/^ai\.onnx\./, 'onnx_').replace(/[^A-Za-z0-9_]/g, '_')}.${type}`;
}
