#!/usr/bin/env bash
# Compiles the test broker against Debian's librdkafka-dev into tools/mock-broker/bin/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$here/bin"
if [[ ! -x "$here/bin/mock-broker" || "$here/mock-broker.c" -nt "$here/bin/mock-broker" ]]; then
  cc -O2 -Wall -Wextra -Werror -o "$here/bin/mock-broker" "$here/mock-broker.c" -lrdkafka
fi
