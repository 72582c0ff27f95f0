// node-run.mjs - runs one benchmark program's wasm build under Node's V8 and prints the line
// bench/run reads from every runner: "checksum=N seconds=S cpu=C" (wall-clock time, and the CPU
// time of the whole process, V8's background compiler and GC threads included). Only the call of
// the export `run` is timed: compiling and instantiating the module happen before the clock starts.
//
//   node [V8 FLAGS] bench/node-run.mjs FILE.wasm [--expect CHECKSUM]
//
// The V8 flags choose the tier: none (the default: Liftoff first, TurboFan for hot functions,
// dynamic tiering), --liftoff-only, or --no-liftoff (TurboFan only). With --expect, a different
// checksum ends the run with status 3. The module may import nothing, or only functions (each
// import then gets a stub that throws, so a call to it fails loudly rather than silently).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

function usage() {
    console.error('usage: node [V8 FLAGS] node-run.mjs FILE.wasm [--expect CHECKSUM]');
    process.exit(2);
}

const args = process.argv.slice(2);
let file = null;
let expect = null;
for (let i = 0; i < args.length; i++) {
    if (args[i] === '--expect' && i + 1 < args.length) expect = BigInt(args[++i]);
    else if (!args[i].startsWith('-') && file === null) file = args[i];
    else usage();
}
if (file === null) usage();

const module = await WebAssembly.compile(readFileSync(file));
const imports = {};
for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function') {
        console.error(`node-run: ${file}: unsupported import ${imp.module}.${imp.name} (${imp.kind})`);
        process.exit(2);
    }
    imports[imp.module] ??= {};
    imports[imp.module][imp.name] = () => {
        throw new Error(`import ${imp.module}.${imp.name} called`);
    };
}
const instance = await WebAssembly.instantiate(module, imports);
const run = instance.exports.run;
if (typeof run !== 'function') {
    console.error(`node-run: ${file}: no exported function "run"`);
    process.exit(2);
}

const c0 = process.cpuUsage();
const t0 = performance.now();
const result = run();
const t1 = performance.now();
const c1 = process.cpuUsage(c0);

// i64 results arrive as BigInt, i32 as Number; both are printed unsigned, as the native build does.
const checksum = typeof result === 'bigint' ? BigInt.asUintN(64, result) : BigInt(result >>> 0);
const cpu = (c1.user + c1.system) / 1e6;
console.log(`checksum=${checksum} seconds=${((t1 - t0) / 1000).toFixed(6)} cpu=${cpu.toFixed(6)}`);
if (expect !== null && checksum !== BigInt.asUintN(64, expect)) {
    console.error(`node-run: ${file}: checksum ${checksum}, expected ${expect}`);
    process.exit(3);
}
