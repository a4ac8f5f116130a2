#!/usr/bin/env bash
# The main job on the embedded default: the quickstart pipeline (config/pipelines/quickstart.yaml).
# It spawns two local store actors (data in out/quickstart.store), streams the bundled corpus
# through the read, split and count stage actors into them, smooths the counts inside the store,
# writes the model as ARPA (out/quickstart.3.arpa), scores held-out text and samples five
# sentences. A second run finds every input counted and only exports and evaluates again.
set -euo pipefail
cd "$(dirname "$0")/.."
bin/dbslm pipeline run config/pipelines/quickstart.yaml "$@"
