// The preformatted per-request families must read exactly like prom-client's own output, as text and
// as JSON (what AggregatorRegistry merges across workers).
import { expect } from 'chai';
import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { PreformattedCounter, PreformattedHistogram } from '../../../src/observe/preformatted.js';

const BOUNDS = [0.005, 0.1, 1];

function pair() {
  const registry = new Registry();
  const counter = new Counter({ name: 'x_total', help: 'Requests "quoted" \\ and\nnewline.', labelNames: ['site', 'route', 'status'], registers: [registry] });
  const histogram = new Histogram({ name: 'x_seconds', help: 'Latency.', labelNames: ['site'], buckets: BOUNDS, registers: [registry] });
  const ours = { counter: new PreformattedCounter('x_total', 'Requests "quoted" \\ and\nnewline.'), histogram: new PreformattedHistogram('x_seconds', 'Latency.', BOUNDS) };
  const record = (site: string, route: string, status: string, seconds: number) => {
    counter.inc({ site, route, status });
    histogram.observe({ site }, seconds);
    ours.counter.cell({ site, route, status }).inc();
    ours.histogram.cell({ site }).observe(seconds);
  };
  return { registry, ours, record };
}

describe('admin/preformatted', () => {
  it('prints the same text as prom-client, escapes included', async () => {
    const { registry, ours, record } = pair();
    record('a.test', '/api/', '200', 0.003);
    record('a.test', '~ "\\.php$', '502', 0.1);
    record('b\nx.test', '= /', '200', 0.7);
    record('a.test', '/api/', '200', 5);
    expect(`${ours.counter.text()}\n${ours.histogram.text()}`).to.equal(await registry.metrics());
  });

  it('gives prom-client\'s JSON, so two workers aggregate to the sum', async () => {
    const w1 = pair();
    const w2 = pair();
    w1.record('a.test', '/', '200', 0.05);
    w2.record('a.test', '/', '200', 2);
    w2.record('a.test', '/', '404', 0.001);
    const merged = AggregatorRegistry.aggregate([
      [w1.ours.counter.json(), w1.ours.histogram.json()],
      [w2.ours.counter.json(), w2.ours.histogram.json()],
    ] as unknown as Parameters<typeof AggregatorRegistry.aggregate>[0]);
    const text = await merged.metrics();
    expect(text).to.include('x_total{site="a.test",route="/",status="200"} 2\n');
    expect(text).to.include('x_total{site="a.test",route="/",status="404"} 1\n');
    expect(text).to.include('x_seconds_bucket{le="0.1",site="a.test"} 2\n');
    expect(text).to.include('x_seconds_bucket{le="+Inf",site="a.test"} 3\n');
    expect(text).to.include('x_seconds_count{site="a.test"} 3');
    // And prom-client's own JSON of the same observations is what ours is.
    expect([w1.ours.counter.json(), w1.ours.histogram.json()]).to.deep.equal(
      (await w1.registry.getMetricsAsJSON()).map((m) => JSON.parse(JSON.stringify(m, (k, v: unknown) => (k === 'exemplar' ? undefined : v)))),
    );
  });
});
