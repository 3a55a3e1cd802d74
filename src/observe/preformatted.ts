// The two per-request families (requests by site/route/status, latency by site) kept as plain numbers
// with their exposition lines formatted once per label set. prom-client formats and escapes every
// label of every sample on every scrape: with 100 sites that was ~2 000 samples and most of /metrics'
// time (scripts/bench/metrics.mjs). These cells give the same text format, and the same JSON shape as
// prom-client's getMetricsAsJSON, so AggregatorRegistry still merges them across pm2 workers.

type Labels = Record<string, string>;

/** One family as prom-client's getMetricsAsJSON gives it (what AggregatorRegistry.aggregate reads). */
export interface MetricJson {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  values: Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>;
}

// Text format 0.0.4: label values escape backslash, double quote and newline.
function labelText(labels: Labels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`)
    .join(',');
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`;
}

export class CounterCell {
  value = 0;
  constructor(
    readonly labels: Labels,
    readonly line: string,
  ) {}
  inc(): void {
    this.value++;
  }
}

export class PreformattedCounter {
  private readonly cells = new Map<string, CounterCell>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** The cell for one label set; callers cache it, so this runs once per label set. */
  cell(labels: Labels): CounterCell {
    const text = labelText(labels);
    let cell = this.cells.get(text);
    if (!cell) {
      cell = new CounterCell(labels, `${this.name}{${text}} `);
      this.cells.set(text, cell);
    }
    return cell;
  }

  text(): string {
    let out = header(this.name, this.help, 'counter');
    for (const c of this.cells.values()) out += `${c.line}${c.value}\n`;
    return out;
  }

  json(): MetricJson {
    const values = [...this.cells.values()].map((c) => ({ labels: { ...c.labels }, value: c.value }));
    return { name: this.name, help: this.help, type: 'counter', values, aggregator: 'sum' };
  }
}

export class HistogramCell {
  /** Per-bucket (not cumulative) counts; the last slot is above every bound. */
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
    /** One line prefix per bound, then +Inf, _sum and _count. */
    readonly lines: readonly string[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }
  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

export class PreformattedHistogram {
  private readonly cells = new Map<string, HistogramCell>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly bounds: readonly number[],
  ) {}

  cell(labels: Labels): HistogramCell {
    const text = labelText(labels);
    let cell = this.cells.get(text);
    if (!cell) {
      const sep = text ? `,${text}` : '';
      const lines = [
        ...this.bounds.map((b) => `${this.name}_bucket{le="${b}"${sep}} `),
        `${this.name}_bucket{le="+Inf"${sep}} `,
        `${this.name}_sum${text ? `{${text}}` : ''} `,
        `${this.name}_count${text ? `{${text}}` : ''} `,
      ];
      cell = new HistogramCell(labels, this.bounds, lines);
      this.cells.set(text, cell);
    }
    return cell;
  }

  text(): string {
    let out = header(this.name, this.help, 'histogram');
    const n = this.bounds.length;
    for (const c of this.cells.values()) {
      let acc = 0;
      for (let i = 0; i <= n; i++) {
        acc += c.counts[i]!;
        out += `${c.lines[i]!}${acc}\n`;
      }
      out += `${c.lines[n + 1]!}${c.sum}\n${c.lines[n + 2]!}${c.count}\n`;
    }
    return out;
  }

  json(): MetricJson {
    const values: MetricJson['values'] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.cells.values()) {
      let acc = 0;
      this.bounds.forEach((b, i) => {
        acc += c.counts[i]!;
        values.push({ labels: { le: b, ...c.labels }, value: acc, metricName: bucket });
      });
      values.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: bucket });
      values.push({ labels: { ...c.labels }, value: c.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...c.labels }, value: c.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}

export class GaugeCell {
  value = 0;
  constructor(readonly labels: Labels, readonly line: string) {}
}

/**
 * A gauge whose label sets are replaced as a whole (`replace`), e.g. on each certificate refresh. Also a
 * counter whose values come from elsewhere (the storage), with `type` 'counter'.
 */
export class PreformattedGauge {
  private cells: GaugeCell[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly aggregator: 'sum' | 'min' | 'max' | 'average',
    private readonly type: 'gauge' | 'counter' = 'gauge',
  ) {}

  replace(labelSets: readonly Labels[]): GaugeCell[] {
    this.cells = labelSets.map((l) => new GaugeCell(l, `${this.name}{${labelText(l)}} `));
    return this.cells;
  }

  text(): string {
    let out = header(this.name, this.help, this.type);
    for (const c of this.cells) out += `${c.line}${c.value}\n`;
    return out;
  }

  json(): MetricJson {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.cells.map((c) => ({ labels: { ...c.labels }, value: c.value })) };
  }
}
