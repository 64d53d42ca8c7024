#!/usr/bin/env bash
# Installs what the service and its tests need on a fresh Debian machine, then builds.
# Idempotent: each step is skipped when already done. Used by `npm run start:local`,
# `npm test`, `npm run bench` and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v cc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
[[ -f /usr/include/librdkafka/rdkafka_mock.h ]] || need_apt+=(librdkafka-dev)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus) # promtool: the metrics and config checks
if ((${#need_apt[@]})); then
  echo "setup: installing ${need_apt[*]} (apt)" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

bash tools/mock-broker/build.sh

# Rebuild the apps when any source is newer than the last build.
stamp=dist/.build-stamp
if [[ ! -f $stamp ]] || [[ -n $(find apps libs nest-cli.json tsconfig*.json package-lock.json -newer "$stamp" -type f -print -quit) ]]; then
  echo "setup: building apps" >&2
  npx nest build projector >/dev/null
  npx nest build gateway >/dev/null
  npx nest build tools >/dev/null
  chmod +x dist/apps/tools/src/cli.js # the `unread` bin (package.json)
  touch "$stamp"
fi
