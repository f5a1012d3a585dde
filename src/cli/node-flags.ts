/**
 * The V8 flags the CLI runs with. bin.ts's shebang names them (V8 applies some only when
 * it starts with them) and sets them again for `node bin.js`; the benchmarks start their
 * builders with them, so a benchmark measures what the CLI does. A test keeps the shebang
 * equal to this list.
 *
 * Walking a closure three times makes many short-lived objects; with V8's default
 * heuristics the heap grows with them (a qcow-efi of 500,000 files in one store path
 * peaked at 357 MiB). A young generation of 2 MiB semi-spaces and old-space growth of 20 %
 * per step keep it near what is live. Measured on qcow-efi builds (bench/memory.ts inputs):
 * 119 to 150 MiB from 5,000 to 100,000 files and 165 to 182 MiB at 500,000, in 6.2 s at
 * 100,000 files and 27 to 31 s (22 s of CPU) at 500,000. --optimize-for-size, used
 * before, kept 117 to 160 MiB but took 14.4 s and 49 s (30 s of CPU) there.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--heap-growing-percent=20'];
