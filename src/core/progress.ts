/**
 * Progress is data: writers report bytes done through a callback and the CLI decides how
 * to draw it. Long loops call `checkpoint` so signal handlers get to run and a cancelled
 * build stops promptly.
 */
import { InterruptedError } from './errors.js';

export type ProgressCallback = (event: ProgressEvent) => void;

export interface ProgressEvent {
  /** What is being done, for example "write nixos.qcow2". */
  readonly phase: string;
  readonly done: number;
  readonly total: number;
}

export interface RunControl {
  readonly onProgress?: ProgressCallback;
  readonly signal?: AbortSignal;
}

/** Yields to the event loop and throws if the build was cancelled. */
export async function checkpoint(control: RunControl): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (control.signal?.aborted === true) throw new InterruptedError(String(control.signal.reason ?? 'SIGINT'));
}

/** Calls `checkpoint` every `every` steps; cheap enough for per-cluster loops. */
export function throttledCheckpoint(control: RunControl, every = 256): () => Promise<void> | undefined {
  let count = 0;
  return () => (++count % every === 0 ? checkpoint(control) : undefined);
}

/** A RunControl with a phase name for progress events, as the container and archive writers take it. */
export interface PhasedControl extends RunControl {
  /** Phase name for progress events; each writer has its own default ("write raw", ...). */
  readonly phase?: string;
}

/**
 * `control` whose progress events say at least `total` bytes: for writers that count what
 * they read but cannot know in advance how much that will be (the squashfs writer).
 */
export function withProgressTotal<C extends RunControl>(control: C, total: number): C {
  const onProgress = control.onProgress;
  return onProgress === undefined ? control : { ...control, onProgress: (event) => onProgress({ ...event, total: Math.max(event.done, total) }) };
}

/** Reports `done` of `total` bytes under the control's phase (or the writer's default). */
export function progressReporter(control: PhasedControl, defaultPhase: string, total: number): (done: number) => void {
  const onProgress = control.onProgress;
  if (onProgress === undefined) return () => undefined;
  const phase = control.phase ?? defaultPhase;
  return (done) => onProgress({ phase, done: Math.min(done, total), total });
}
