/** Writing test outputs the way the CLI does (src/formats/build.ts): the caller owns the OutputFile. */
import { OutputFile } from '../../src/core/output-file.js';

/** Writes through `write` into an OutputFile at `path` and commits it; on failure aborts it and rethrows. */
export async function writeTo(path: string, write: (out: OutputFile) => Promise<void>): Promise<string> {
  const out = OutputFile.create(path);
  try {
    await write(out);
    return out.commit();
  } catch (error) {
    out.abort();
    throw error;
  }
}
