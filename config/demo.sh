#!/usr/bin/env bash
# The main job on the embedded default: train on the bundled corpus, score held-out text, sample.
# (When the streaming pipeline lands, this runs it against local store actors instead.)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DBSLM_OUT:-out}
mkdir -p "$out"
cli="node dist/cli/main.js"
echo "== build: order-3 modified Kneser-Ney model of config/corpus/kjv.sample.txt"
$cli build --order 3 --arpa "$out/kjv.sample.3.arpa" config/corpus/kjv.sample.txt
echo "== score: held-out text config/corpus/kjv.sample.test.txt"
$cli ppl --arpa "$out/kjv.sample.3.arpa" config/corpus/kjv.sample.test.txt
echo "== sample: five sentences drawn from the model"
$cli sample --arpa "$out/kjv.sample.3.arpa" --n 5 --seed 1
