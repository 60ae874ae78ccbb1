#!/usr/bin/env bash
# Deploys the debug toolbox next to the stack.
set -euo pipefail

TAG="${1:-latest}"

docker pull "example/toolbox:${TAG}"
docker run -d --name toolbox \
  --pid=host \
  --cap-add=SYS_ADMIN \
  -v /var/run/docker.sock:/var/run/docker.sock \
  "example/toolbox:${TAG}" sleep infinity

echo "toolbox started; attach with: docker exec -it --privileged toolbox sh"
