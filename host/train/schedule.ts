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
  /** Steps over which the rate rises linearly to its base value (0 = none). */
  warmupSteps?: number;
}

/** How many rate changes a run gets at most (plus the warmup's). */
export const SEGMENTS = 100;

/** The rate for step `step` (0-based) of a run of `total` steps at base rate `lr`. */
export function scheduledLr(lr: number, s: LrSchedule, step: number, total: number): number {
  const warmup = Math.min(s.warmupSteps ?? 0, total);
  if (step < warmup) {
    // Warmup steps are few: each gets its own rate, reaching `lr` at the first step after warmup.
    return lr * (step + 1) / (warmup + 1);
  }
  if (s.kind === "constant") return lr;
  const span = total - warmup;
  const segment = Math.max(1, Math.ceil(span / SEGMENTS));
  // The segment's start: every step of a segment gets the same rate (one TRAIN_CONFIG per segment).
  const t = Math.floor((step - warmup) / segment) * segment;
  return lr * 0.5 * (1 + Math.cos(Math.PI * t / span));
}

/** One line describing the schedule (for logs and --json). */
export function describeSchedule(s: LrSchedule): string {
  return s.warmupSteps ? `${s.kind}, ${s.warmupSteps} warmup steps` : s.kind;
}
