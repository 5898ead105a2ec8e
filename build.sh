#!/usr/bin/env bash
# ClusterContext developer entry point.
#   ./build.sh demo    start a local pod sandbox and the agent, and show the pod's context through the protocol
#   ./build.sh test    build everything and run every test (needs root: the pod sandbox uses Linux namespaces)
#   ./build.sh bench   throughput of client -> agent -> TCP echo against a direct loopback socket, and agent memory
# Each command installs what it needs first (Debian packages, NuGet packages).
set -euo pipefail
cd "$(dirname "$0")"

install_prerequisites() {
  if [ "$(id -u)" != 0 ]; then
    echo "The pod sandbox creates network and mount namespaces: run this as root (sudo $0 $*)." >&2
    exit 1
  fi
  local missing=()
  command -v ip >/dev/null || missing+=(iproute2)
  command -v dnsmasq >/dev/null || missing+=(dnsmasq-base)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v unshare >/dev/null || missing+=(util-linux)
  command -v nsenter >/dev/null || missing+=(util-linux)
  command -v socat >/dev/null || missing+=(socat)
  command -v openssl >/dev/null || missing+=(openssl)
  # The Kubernetes API double is checked with clients this project did not write: kubectl and the Python client.
  /usr/bin/python3 -c 'import kubernetes' 2>/dev/null || missing+=(python3-kubernetes)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]}..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ! command -v dotnet >/dev/null; then
    echo "The .NET SDK (dotnet) is not on PATH; install the .NET 10 SDK first." >&2
    exit 1
  fi
  dotnet restore LocalK8s.sln --verbosity quiet
}

run_tests() {
  local results=artifacts/test-results
  rm -rf "$results"
  dotnet build LocalK8s.sln --no-restore --verbosity quiet -nologo
  local status=0
  dotnet test LocalK8s.sln --no-build --verbosity quiet -nologo \
    --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" || status=$?
  local passed=0 failed=0 count
  for trx in "$results"/*.trx; do
    [ -e "$trx" ] || continue
    count=$(grep -o '<Counters [^>]*' "$trx" | grep -o ' passed="[0-9]*"' | grep -o '[0-9]*' || echo 0)
    passed=$((passed + count))
    count=$(grep -o '<Counters [^>]*' "$trx" | grep -o ' failed="[0-9]*"' | grep -o '[0-9]*' || echo 0)
    failed=$((failed + count))
  done
  echo "$passed passed, $failed failed"
  return $status
}

case "${1:-}" in
  demo)
    install_prerequisites
    dotnet run --no-restore --project tests/SandboxDemo
    ;;
  test)
    install_prerequisites
    run_tests
    ;;
  bench)
    install_prerequisites
    dotnet run --no-restore -c Release --project bench/ClusterContext.Benchmarks -- "${@:2}"
    ;;
  *)
    echo "usage: $0 demo|test|bench" >&2
    exit 2
    ;;
esac
