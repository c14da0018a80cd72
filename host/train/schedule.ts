// Learning-rate schedules for a training run. Batch-1 SGD at a rate large enough to learn
// fast early is too noisy to settle late: a cosine decay anneals the rate towards zero by the
// last step, and a short linear warmup spares the pretrained layers the large gradients of a
// classifier that has not yet learned the new classes. The host computes the rate and sets it on
// the target (TRAIN_CONFIG on a board); the rate is held constant over segments of steps, so a
// run sends at most about SEGMENTS configs whatever its length.

export const LR_SCHEDULES = ["constant", "cosine"] as const;
export type LrScheduleKind = (typeof LR_SCHEDULES)[number];

export interface LrSchedule {
  kind: LrScheduleKind;
  /** Fraction of the run's steps over which the rate first rises linearly to its base value (0 = none). */
  warmup?: number;
}

/** The schedule `tinyloop train` and the benchmark use unless told otherwise. */
export const DEFAULT_SCHEDULE: Required<LrSchedule> = { kind: "cosine", warmup: 0.05 };

/** How many rates a run gets at most: a board gets at most this many TRAIN_CONFIGs. */
export const SEGMENTS = 100;

/** Steps that share one rate in a run of `total` steps. */
export function segmentSteps(total: number): number {
  return Math.max(1, Math.ceil(total / SEGMENTS));
}

/** Warmup steps of a run of `total` steps: whole segments. */
export function warmupSteps(s: LrSchedule, total: number): number {
  const segment = segmentSteps(total);
  return Math.min(total, Math.round((s.warmup ?? 0) * total / segment) * segment);
}

/** The rate for step `step` (0-based) of a run of `total` steps at base rate `lr`. */
export function scheduledLr(lr: number, s: LrSchedule, step: number, total: number): number {
  const segment = segmentSteps(total), warmup = warmupSteps(s, total);
  // Every step of a segment gets the rate of the segment's first step.
  const t = Math.floor(step / segment) * segment;
  if (t < warmup) return lr * (t + segment) / (warmup + segment); // linear, reaching lr just after
  if (s.kind === "constant") return lr;
  return lr * 0.5 * (1 + Math.cos(Math.PI * (t - warmup) / (total - warmup)));
}

/** One line describing the schedule (for logs and --json). */
export function describeSchedule(s: LrSchedule): string {
  return s.warmup ? `${s.kind}, warmup ${+(s.warmup * 100).toFixed(2)}% of the steps` : s.kind;
}
