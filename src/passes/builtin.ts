// Importing this module registers the built-in passes, and names the default pipeline of each target.
import './lower.js';
import './fold.js';
import './simplify.js';
import './views.js';
import './cse.js';
import './dce.js';

/** Canonicalization after lowering: each pass leaves the numbers as they were (checked by property tests). */
export const CANONICALIZE = 'fold,simplify,views,cse,dce';

/** The pipeline `aic` runs on an imported graph for each target, unless --passes says otherwise.
 * Every target canonicalizes the same way today; scheduling into kernels is the target's own step. */
const DEFAULT_PIPELINES: Readonly<Record<string, string>> = {
  interp: `lower,${CANONICALIZE}`,
};

export const defaultPipeline = (target: string): string => DEFAULT_PIPELINES[target] ?? `lower,${CANONICALIZE}`;
