#!/usr/bin/env bash
# Builds deploy/package/: portalgen and the gate's dependencies for AWS Lambda
# (Python 3.12, arm64), plus deploy/config.yaml. Then: sam deploy -t deploy/template.yaml --guided
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf deploy/package
python3 -m pip install -q --target deploy/package --no-deps .
python3 -m pip install -q --target deploy/package -r deploy/requirements.txt \
  --platform manylinux2014_aarch64 --implementation cp --python-version 3.12 --only-binary=:all:
cp deploy/config.yaml deploy/package/config.yaml
echo "deploy/package is ready: sam deploy -t deploy/template.yaml --guided"
