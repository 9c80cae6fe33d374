/** One sample of a Prometheus text exposition: `name{label="value",…} value`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const UNESCAPE: Record<string, string> = { "\\\\": "\\", '\\"': '"', "\\n": "\n" };

/** Parses the samples of a text exposition (format 0.0.4); comments and blank lines are skipped. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (match === null) throw new Error(`Not a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText = "", valueText] = match;
    const labels: Record<string, string> = {};
    for (const [, label, raw] of labelText.matchAll(LABEL)) {
      labels[label as string] = (raw as string).replace(/\\[\\"n]/g, (s) => UNESCAPE[s] as string);
    }
    samples.push({ name: name as string, labels, value: Number(valueText) });
  }
  return samples;
}

/** The samples whose name starts with `prefix`, as `name{a="1",b="2"}` → value, sorted. */
export function samplesByKey(samples: readonly Sample[], prefix: string): Record<string, number> {
  const entries = samples
    .filter((sample) => sample.name.startsWith(prefix))
    .map((sample) => {
      const labels = Object.entries(sample.labels)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, value]) => `${key}="${value}"`)
        .join(",");
      return [labels === "" ? sample.name : `${sample.name}{${labels}}`, sample.value] as const;
    })
    .sort(([a], [b]) => a.localeCompare(b));
  return Object.fromEntries(entries);
}
