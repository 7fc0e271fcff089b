#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine with the .NET 10 SDK:
# installs what the tests need (Debian packages for the PyTorch/PIL oracles, librsvg2-bin for the data builders, openmpi-bin for the
# distributed tests), builds, runs every test project,
# and closes with one line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

need_apt=()
/usr/bin/python3 -c "import numpy" 2>/dev/null || need_apt+=(python3-numpy)
/usr/bin/python3 -c "import PIL" 2>/dev/null || need_apt+=(python3-pil)
/usr/bin/python3 -c "import torch" 2>/dev/null || need_apt+=(python3-torch)
# the web page test (tests/Furnace.Server.Tests/WebPageTests.cs) drives Debian's chromium through Playwright's .NET
# package, which brings its own node driver: no browser is downloaded
if [ -d tests/Furnace.Server.Tests ] && [ ! -x /usr/bin/chromium ]; then need_apt+=(chromium); fi
# librsvg's rsvg-convert: the data builders rasterise SVGs with it (tests render tiny fixture SVGs)
command -v rsvg-convert >/dev/null 2>&1 || need_apt+=(librsvg2-bin)
# Open MPI's mpirun and libmpi.so: the distributed train/eval tests run `mpirun --oversubscribe -np 2|3 furnace ...`
command -v mpirun >/dev/null 2>&1 || need_apt+=(openmpi-bin)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null; fi
fi

dotnet build Furnace.sln -c Release -nologo -v q || exit 1

log=$(mktemp)
rc=0
for proj in tests/*/*.csproj; do
  echo "== $proj"
  dotnet test "$proj" -c Release --no-build -nologo 2>&1 | tee -a "$log" || rc=1
done
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ $rc = 0 ]
