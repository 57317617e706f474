// ptxas for the PTX tests: found once; a test that needs it prints `skipped: ptxas not found` and skips.
import { ptxasPath } from '../../../src/backends/ptx/ptxas.js';

export const NO_PTXAS: string | undefined = ptxasPath() ? undefined : 'ptxas not found';
if (NO_PTXAS) console.log('skipped: ptxas not found');
