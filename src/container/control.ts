/** The run control every container writer takes: progress + cancellation, with a phase name. */
import type { RunControl } from '../core/progress.js';

export interface ContainerControl extends RunControl {
  /** Phase name for progress events; each writer has its own default ("write raw", ...). */
  readonly phase?: string;
}

/** Reports `done` of `total` bytes under the control's phase (or the writer's default). */
export function progressReporter(control: ContainerControl, defaultPhase: string, total: number): (done: number) => void {
  const onProgress = control.onProgress;
  if (onProgress === undefined) return () => undefined;
  const phase = control.phase ?? defaultPhase;
  return (done) => onProgress({ phase, done: Math.min(done, total), total });
}
