import { formatValue, type PrometheusText } from './PrometheusText.js';

interface Series {
  /** Observations per bucket (not cumulative: summed when written). */
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram with a series per value of one label: bucket counts, sum and count of
 * the observations. Observing allocates nothing once the label's series exists.
 */
export class Histogram {
  private readonly series = new Map<string, Series>();

  /** `bounds`: the buckets' upper bounds, ascending (the `+Inf` bucket is added). */
  constructor(private readonly bounds: readonly number[]) {}

  observe(label: string, value: number): void {
    let series = this.series.get(label);
    if (!series) {
      series = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 };
      this.series.set(label, series);
    }
    for (let i = 0; i < this.bounds.length; i += 1) {
      if (value <= (this.bounds[i] as number)) {
        series.buckets[i] = (series.buckets[i] as number) + 1;
        break;
      }
    }
    series.sum += value;
    series.count += 1;
  }

  /** Observations of one label's series so far. */
  count(label: string): number {
    return this.series.get(label)?.count ?? 0;
  }

  /** Writes the histogram as metric `name`, its series labelled `label`. */
  write(out: PrometheusText, name: string, help: string, label: string): void {
    out.metric(name, 'histogram', help);
    for (const [value, series] of this.series) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.buckets[i] as number;
        out.sample(`${name}_bucket`, cumulative, { [label]: value, le: formatValue(bound) });
      });
      out.sample(`${name}_bucket`, series.count, { [label]: value, le: '+Inf' });
      out.sample(`${name}_sum`, series.sum, { [label]: value });
      out.sample(`${name}_count`, series.count, { [label]: value });
    }
  }
}
