#!/bin/sh
# The staff image's entrypoint: `IMAGE ARGS` runs `portalgen ARGS`.
# AWS Batch can override a job's command but not the entrypoint, and it expands no shell
# arithmetic, so `IMAGE shell 'SCRIPT'` runs SCRIPT with sh: the array job uses it to pass
# `--shard $((AWS_BATCH_JOB_ARRAY_INDEX + 1))/$SHARD_COUNT` (deploy/batch/template.yaml).
set -eu
if [ "${1:-}" = "shell" ]; then
  shift
  exec sh -eu -c "$1"
fi
exec portalgen "$@"
