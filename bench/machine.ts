/**
 * The machine a benchmark ran on, recorded with its results: core count (what `nproc` says),
 * CPU model (what `lscpu` calls "Model name"), memory and the Node.js version.
 */
import { availableParallelism, cpus, release, totalmem } from 'node:os';

/** What a result file says about the machine. */
export interface MachineInfo {
  /** Cores available to this process, as `nproc` counts them. */
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly kernel: string;
}

/** Describes this machine. */
export function machineInfo(): MachineInfo {
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: release(),
  };
}

/** One line for a table caption: "2 cores, AMD EPYC, 23.5 GiB, Node v20.20.2, linux-x64". */
export function machineLine(m: MachineInfo): string {
  return `${m.nproc} cores, ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}`;
}
