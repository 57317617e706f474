// `--plugin PATH`: a module whose default export receives aic's public API and registers passes or
// targets with it, e.g. `export default (aic) => aic.registerPass({ name, description, run })`.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AicError } from '../ir/error.js';

export async function loadPlugins(paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  const api = await import('../index.js');
  for (const p of paths) {
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(resolve(p)).href)) as { default?: unknown };
    } catch (e) {
      throw new AicError('E_IO', `plugin ${p} cannot be loaded: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    }
    if (typeof mod.default !== 'function') {
      throw new AicError('E_USAGE', `plugin ${p} has no default export function`, 'export default (aic) => { aic.registerPass(...) }');
    }
    await (mod.default as (a: typeof api) => unknown)(api);
  }
}
