// ava's settings. Test files run two at a time (the machine has 2 cores and many tests start
// processes of their own), in the order below: the longest files first, so that no long file
// starts near the end and runs alone on one core while the other idles (longest processing time
// first). Seconds are one file's time in a whole-suite run on the 2-core CI machine; only the order
// matters, and a file missing from the list runs after these, in name order.
const longestFirst = [
  'pipeline_equality', // 140 s: four pipeline shapes, a joined store, full KJV order 3
  'store_fault', // 145 s: 20 seeded fault runs, two at a time
  'pipeline_chaos', // 135 s
  'store_model_topk', // 100 s
  'store_model_kenlm', // 80 s: KenLM's kjv3 imported with heads into one actor, then into three
  'store_model_smooth', // 70 s
  'store_model_cli', // 50 s
  'pipeline_worker_host', // 40 s
  'store_model_arpa_export', // 37 s
  'pipeline_slow_store', // 36 s
  'pipeline_runtime_cli', // 35 s
  'store_cluster_takeover', // 35 s
  'store_cluster_moves', // 34 s
  'store_cluster_dead_owner', // 33 s
  'pipeline_runtime_metrics', // 29 s
  'generate_exact', // 26 s
  'generate_cli', // 25 s
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
