// Every property test runs from one seed, so that CI is reproducible: a failure seen once is seen again.
// `AIC_FC_SEED=<n>` picks another seed (`random` for a fresh one each run, as `npm run fuzz:ort` does).
import fc from 'fast-check';

const env = process.env['AIC_FC_SEED'];
if (env !== 'random') fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: env === undefined ? 20261122 : Number(env) });
