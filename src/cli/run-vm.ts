/**
 * --run for the vm formats: starts the built runner (bin/run-<name>-vm) in the current
 * directory, as nixos-generators' --run does, so its disk ./<name>.qcow2 lands there and
 * is reused by the next run. The arguments after "--" go to QEMU through the runner.
 */
import { runTool } from './run-tool.js';

export function runVm(runner: string, env: NodeJS.ProcessEnv, extra: readonly string[] = []): Promise<number> {
  return runTool(runner, extra, { code: 'run.runner', action: 'Cannot start the runner', hint: 'run it directly to see why; it needs /bin/sh', env });
}
