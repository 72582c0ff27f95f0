// node-wasi.mjs - runs one benchmark program's wasm build (a WASI command) under Node's V8 through
// node:wasi (WASI preview 1): compile, instantiate with the WASI imports, then wasi.start(), which
// calls the module's _start. The program's main() times its kernel itself and prints the line
// bench/run reads from every runner ("checksum=N seconds=S cpu=C thread=T", see
// bench/programs/entry.c); this script adds nothing to it. Compiling and instantiating the module
// happen before main() reads its clocks, so they are not in the times.
//
//   node [V8 FLAGS] bench/node-wasi.mjs FILE.wasm [ARGS...]
//
// The V8 flags choose the tier: none (the default: Liftoff first, TurboFan for hot functions,
// dynamic tiering), --liftoff-only, or --no-liftoff (TurboFan only). ARGS become the guest's
// argv[1..] (argv[0] is FILE). The guest sees no directories and an empty environment, as under
// `k23vm run`. Exit status: the guest's (its proc_exit code, 0 when main returns); 2 on a usage
// error. node:wasi prints an ExperimentalWarning on standard error, which bench/run shows only when
// a run fails.
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
if (file === undefined || file.startsWith('-')) {
    console.error('usage: node [V8 FLAGS] node-wasi.mjs FILE.wasm [ARGS...]');
    process.exit(2);
}

const wasi = new WASI({ version: 'preview1', args: [file, ...args], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(readFileSync(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
const status = wasi.start(instance);
process.exitCode = status;
