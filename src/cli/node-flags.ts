/**
 * The V8 flags the CLI runs with. bin.ts's shebang names them (V8 applies some only when
 * it starts with them) and sets them again for `node bin.js`; the benchmarks start their
 * builders with them, so a benchmark measures what the CLI does. A test keeps the shebang
 * equal to this list.
 *
 * --optimize-for-size makes V8 collect garbage eagerly: walking a closure of 100,000 files
 * three times makes many short-lived objects, and with the default heuristics the heap
 * grows with them. With it the peak memory stays flat in the closure size
 * (docs/benchmarks/memory.md).
 */
export const NODE_FLAGS: readonly string[] = ['--optimize-for-size'];
