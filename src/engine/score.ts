/**
 * The numbers behind every decision: the cluster imbalance number, the hysteresis bounds, the
 * minimum improvement of a move and the confidence formula. docs/decisions.md explains them with a
 * worked example; keep the two in step.
 */

/** Load balancing starts when a node is hot or the imbalance is above this (points). */
export const IMBALANCE_TRIGGER = 10;
/** …and stops once no node is hot and the imbalance is at or below this (hysteresis). */
export const IMBALANCE_TARGET = 5;
/** A load move must lower the imbalance by at least this many points. */
export const MIN_IMPROVEMENT = 0.25;
/** Improvement (points) that earns the full gain component of confidence. */
export const GAIN_FULL_POINTS = 1;
/** Points below the hot thresholds that earn the full headroom component. */
export const HEADROOM_FULL_POINTS = 20;
/** Fixed per-migration overhead in GiB when ranking moves by improvement per GiB. */
export const MOVE_OVERHEAD_GIB = 4;
/** Weights of the confidence formula. */
export const W_GAIN = 0.4;
export const W_HEADROOM = 0.3;
export const W_RISK = 0.3;

export const GiB = 1024 ** 3;

export interface Thresholds {
  cpu: number;
  mem: number;
  iowait: number;
}

/** Points a node sits above the CPU and memory thresholds (iowait is not attributable to guests, so it makes a node hot but is not part of the number moves can change). */
export function overload(cpuPct: number, memPct: number, th: Thresholds): number {
  return Math.max(0, cpuPct - th.cpu) + Math.max(0, memPct - th.mem);
}

/** A node's load, percent: the mean of its CPU and memory use (Proxmox CRS's node load). */
export function nodeLoad(cpuPct: number, memPct: number): number {
  return (cpuPct + memPct) / 2;
}

/**
 * The imbalance number from the aggregates the simulator keeps:
 * population standard deviation of node loads + total overload points.
 */
export function imbalanceFrom(n: number, sum: number, sumSq: number, penalty: number): number {
  if (n <= 0) return penalty;
  const mean = sum / n;
  const variance = Math.max(0, sumSq / n - mean * mean);
  return Math.sqrt(variance) + penalty;
}

export interface RiskInput {
  /** GiB of memory in use that travels (running guests). */
  memGiB: number;
  /** GiB of local disk that must be copied. */
  localDiskGiB: number;
  /** A running container is moved with a restart (downtime). */
  containerRestart: boolean;
}

/** 0..1: size (32 GiB of memory = full), local disks (100 GiB = full) and container restart downtime. */
export function risk(r: RiskInput): number {
  const size = Math.min(1, r.memGiB / 32);
  const disk = Math.min(1, r.localDiskGiB / 100);
  return Math.min(1, 0.4 * size + 0.3 * disk + (r.containerRestart ? 0.3 : 0));
}

/** 0..1 headroom: the smaller of (threshold − after) for memory and CPU, over HEADROOM_FULL_POINTS. */
export function headroom(memAfterPct: number, cpuAfterPct: number, th: Thresholds): number {
  const room = Math.min(th.mem - memAfterPct, th.cpu - cpuAfterPct);
  return clamp01(room / HEADROOM_FULL_POINTS);
}

/**
 * 0..1 gain of a load move: its improvement over GAIN_FULL_POINTS, or over the guest's footprint on
 * its source (its memory % + CPU % there) when that is smaller, so that a small guest doing all a
 * guest of its size can do is not judged by what only a big one could achieve. MIN_IMPROVEMENT
 * still keeps moves that barely matter out.
 */
export function gainFromImprovement(improvement: number, footprint: number = GAIN_FULL_POINTS): number {
  return clamp01(improvement / Math.max(MIN_IMPROVEMENT, Math.min(GAIN_FULL_POINTS, footprint)));
}

/** confidence = round(100 × (0.40·gain + 0.30·headroom + 0.30·(1 − risk))), 0..100. */
export function confidence(gain: number, room: number, rsk: number): number {
  return Math.round(100 * (W_GAIN * clamp01(gain) + W_HEADROOM * clamp01(room) + W_RISK * (1 - clamp01(rsk))));
}

export function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/** Rounds for display and for the plan (2 decimals). */
export function r2(x: number): number {
  return Math.round(x * 100) / 100;
}
