// Where backends keep what they build for running on this machine: $AIC_CACHE_DIR, else the user cache
// folder ($XDG_CACHE_HOME/aic or ~/.cache/aic). Everything in it can be deleted at any time.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheRoot(): string {
  const env = process.env['AIC_CACHE_DIR'];
  if (env) return env;
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg && xdg !== '' ? xdg : join(homedir(), '.cache'), 'aic');
}
