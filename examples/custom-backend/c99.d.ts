// Types of the plugin (it is plain JavaScript so that `--plugin` loads it without a build step).
import type * as Aic from '../../src/index.js';

export default function register(aic: typeof Aic): void;
export function c99Backend(aic: typeof Aic): Aic.Backend;
