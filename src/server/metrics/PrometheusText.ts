/** A kind of metric, as `# TYPE` names it. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** The media type of the exposition: Prometheus's text format, version 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Writes metrics in Prometheus's text exposition format (0.0.4): per metric, `# HELP` and
 * `# TYPE` lines, then its samples (`name{label="value"} number`), label values escaped.
 */
export class PrometheusText {
  private text = '';

  /** Starts a metric: its help text and type, before its samples. */
  metric(name: string, type: MetricType, help: string): this {
    this.text += `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
    return this;
  }

  /** One sample of the current metric (or of its `_bucket`, `_sum` and `_count` series). */
  sample(name: string, value: number, labels?: Record<string, string>): this {
    this.text += `${name}${labelSet(labels)} ${formatValue(value)}\n`;
    return this;
  }

  /** A metric with one sample and no labels. */
  single(name: string, type: MetricType, help: string, value: number): this {
    return this.metric(name, type, help).sample(name, value);
  }

  /** A metric with a sample per value of one label. */
  labelled(
    name: string,
    type: MetricType,
    help: string,
    label: string,
    samples: Iterable<[string, number]>,
  ): this {
    this.metric(name, type, help);
    for (const [value, count] of samples) this.sample(name, count, { [label]: value });
    return this;
  }

  toString(): string {
    return this.text;
  }
}

/** A label value as the format quotes it: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value: a Go float, with NaN and the infinities spelled as Prometheus reads them. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelSet(labels: Record<string, string> | undefined): string {
  if (!labels) return '';
  const pairs = Object.entries(labels).map(
    ([name, value]) => `${name}="${escapeLabelValue(value)}"`,
  );
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}
