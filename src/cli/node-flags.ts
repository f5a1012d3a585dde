/**
 * The V8 flags the CLI runs with. bin.ts's shebang names them (V8 applies some only when
 * it starts with them) and sets them again for `node bin.js`; the benchmarks start their
 * builders with them, so a benchmark measures what the CLI does. A test keeps the shebang
 * equal to this list.
 *
 * --optimize-for-size makes V8 collect garbage eagerly: walking a closure three times makes
 * many short-lived objects, and with the default heuristics the heap grows with them. For
 * a qcow-efi of 500,000 files in one store path the peak was 330 MiB with it and 470 MiB
 * without. It costs time: a small young generation (about 12 times the scavenges), so a
 * cold `do` build took 27.5 to 28.4 s against 22.2 to 23.3 s without it, and a rebuild
 * from the cache 4.4 to 5.4 s against 4.0 to 4.6 s (issue 14's benchmark input).
 */
export const NODE_FLAGS: readonly string[] = ['--optimize-for-size'];
