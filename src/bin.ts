#!/usr/bin/env -S node --optimize-for-size
// --optimize-for-size makes V8 collect garbage eagerly: walking a closure of 100,000 files
// three times makes many short-lived objects, and with the default heuristics the heap
// grows with them. With it the peak memory stays flat in the closure size
// (docs/benchmarks/memory.md) at no measurable cost in speed. It only fully applies when
// V8 starts with it (the shebang); set here too for `node bin.js`, where it partly helps.
import { setFlagsFromString } from 'node:v8';
setFlagsFromString('--optimize-for-size');

const { main } = await import('./cli/main.js');
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
