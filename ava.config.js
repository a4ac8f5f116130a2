// ava's settings. Test files run two at a time (the machine has 2 cores and many tests start
// processes of their own), in the order below: the longest files first, so that no long file
// starts near the end and runs alone on one core while the other idles (longest processing time
// first). Seconds are one file's time in a whole-suite run on the 2-core CI machine; only the order
// matters, and a file missing from the list runs after these, in name order.
const longestFirst = [
  'store_fault', // 125 s: 20 seeded fault runs, two at a time
  'pipeline_equality', // 115 s: two pipeline shapes, a joined store, full KJV order 3
  'store_model_kenlm', // 105 s: KenLM's kjv3 imported with heads into one actor, then into three
  'pipeline_chaos', // 100 s
  'store_model_topk', // 75 s
  'store_model_smooth', // 60 s
  'store_model_cli', // 60 s
  'pipeline_incremental', // 45 s
  'pipeline_worker_host', // 40 s
  'store_cluster_moves', // 40 s
  'pipeline_runtime_chain', // 35 s
  'pipeline_runtime_metrics', // 30 s
  'store_cli', // 30 s
  'pipeline_runtime_cli', // 30 s
  'pipeline_slow_store', // 30 s
  'generate_concepts', // 25 s
  'generate_cli', // 25 s
  'pipeline_runtime_store', // 25 s
  'store_model_arpa_export', // 25 s
];
const rank = (file) => {
  const name = file.replace(/^.*\//, '').replace(/\.test\.js$/, '');
  const at = longestFirst.indexOf(name);
  return at === -1 ? longestFirst.length : at;
};

export default {
  files: ['dist/test/**/*.test.js'],
  timeout: '5m',
  concurrency: 2,
  workerThreads: false,
  sortTestFiles: (a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0),
};
