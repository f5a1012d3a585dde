#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=20
// The flags are src/cli/node-flags.ts's NODE_FLAGS (a test keeps this line equal to them).
import { setFlagsFromString } from 'node:v8';
import { NODE_FLAGS } from './cli/node-flags.js';
for (const flag of NODE_FLAGS) setFlagsFromString(flag);

const { main } = await import('./cli/main.js');
process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
