export * from './node-metrics.js';
export * from './series-ring.js';
export * from './latency-histogram.js';
export * from './checkpoint-probe.js';
export * from './node-series.js';
