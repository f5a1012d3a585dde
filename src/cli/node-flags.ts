/**
 * The V8 flags the CLI runs with. bin.ts's shebang names them (V8 applies some only when
 * it starts with them) and sets them again for `node bin.js`; the benchmarks start their
 * builders with them, so a benchmark measures what the CLI does. A test keeps the shebang
 * equal to this list.
 *
 * Walking a closure three times makes many short-lived objects; with V8's default
 * heuristics the heap grows with them (a qcow-efi of 500,000 files in one store path
 * peaked at 357 MiB). A young generation of 2 MiB semi-spaces and old-space growth of 20 %
 * per step keep it near what is live: docs/benchmarks/memory.md has 121 to 134 MiB from
 * 5,000 to 100,000 files and 160 MiB at 500,000 (24.7 s); single runs of those builds
 * ranged from 119 to 150 and 160 to 182 MiB. --optimize-for-size, used before, kept 117 to
 * 160 MiB but took about twice the time (100,000 files: 14.4 s against 6.2; 500,000: 49 s
 * and 30 s of CPU against 27 s and 22 s).
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--heap-growing-percent=20'];
