// yargs and its helpers, for cli/main.ts. `npm run build` replaces tsc's output of this file with
// one file bundling yargs and its dependencies (esbuild, package.json's build script): loading
// yargs as its ~35 modules took ~80 ms of every command's start on our 2-core machine, resolving
// and compiling each, and `ppl` from a binary model has 0.3 s in all. Without the bundle (tsc
// alone) this file re-exports the packages and everything works the same, only slower to start.
export { default as yargs } from 'yargs';
export { hideBin } from 'yargs/helpers';
