// node-wasi.mjs - runs a WASI preview1 program under Node's built-in WASI (node:wasi), with the
// command line of `k23vm run`, so tests/wasi/run-test.sh and tests/wasi/flite-compare can run the
// same program under both and compare (Node is the reference implementation here):
//
//   node node-wasi.mjs [--dir HOST[::GUEST]]... [--env K=V]... [--time] prog.wasm [args...]
//
// Exit status: the program's proc_exit code (0 when _start returns); a trap prints the error and
// exits 134. --time prints "node:wasi compile+instantiate MS run MS" to stderr at the end.
import { WASI } from 'node:wasi';
import { readFileSync } from 'node:fs';
import process from 'node:process';

const argv = process.argv.slice(2);
const preopens = {};
const env = {};
let time = false;
while (argv.length && argv[0].startsWith('--')) {
  const opt = argv.shift();
  if (opt === '--time') {
    time = true;
    continue;
  }
  const val = argv.shift();
  if (val === undefined) {
    console.error(`node-wasi: ${opt} needs a value`);
    process.exit(2);
  }
  if (opt === '--dir') {
    const i = val.indexOf('::');
    if (i < 0) preopens[val] = val;
    else preopens[val.slice(i + 2)] = val.slice(0, i);
  } else if (opt === '--env') {
    const i = val.indexOf('=');
    env[i < 0 ? val : val.slice(0, i)] = i < 0 ? '' : val.slice(i + 1);
  } else {
    console.error(`node-wasi: unknown option ${opt}`);
    process.exit(2);
  }
}
if (!argv.length) {
  console.error('usage: node node-wasi.mjs [--dir HOST[::GUEST]]... [--env K=V]... [--time] prog.wasm [args...]');
  process.exit(2);
}

const t0 = performance.now();
const wasi = new WASI({ version: 'preview1', args: argv, env, preopens, returnOnExit: true });
const module = await WebAssembly.compile(readFileSync(argv[0]));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
const t1 = performance.now();
let status;
try {
  status = wasi.start(instance);
} catch (e) {
  console.error(`trap: ${e.stack}`);
  status = 134;
}
const t2 = performance.now();
if (time)
  console.error(`node:wasi compile+instantiate ${(t1 - t0).toFixed(1)} ms run ${(t2 - t1).toFixed(1)} ms`);
process.exitCode = status;
