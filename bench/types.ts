// Every benchmark section returns rows of figures; bench/run.ts prints them in one table beside
// their targets and saves the report as JSON with the date, machine and versions.

export interface Figure {
  /** What was measured, e.g. "REST newest 50, p50 (c=1)". */
  metric: string;
  value: number;
  unit: string;
  /** The target in words, e.g. "≤ 3 ms"; omitted for figures reported for scale. */
  target?: string;
  /** Whether the value meets the target (undefined when there is no target). */
  pass?: boolean;
}

export interface BenchSection {
  name: string;
  figures: Figure[];
  /** Extra evidence worth saving, e.g. an EXPLAIN plan. */
  notes?: Record<string, unknown>;
}

/** Small = quick (`npm run bench -- --quick`), full = the sizes the issues name. */
export interface BenchOptions {
  quick: boolean;
}

export type Bench = (options: BenchOptions) => Promise<BenchSection>;

export function atMost(metric: string, value: number, unit: string, limit: number): Figure {
  return { metric, value, unit, target: `≤ ${limit} ${unit}`, pass: value <= limit };
}

export function atLeast(metric: string, value: number, unit: string, limit: number): Figure {
  return { metric, value, unit, target: `≥ ${limit} ${unit}`, pass: value >= limit };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
