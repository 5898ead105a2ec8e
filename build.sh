#!/usr/bin/env bash
# ClusterContext developer entry point.
#   ./build.sh demo    run samples/OrdersConsole in the context of deployment/orders: in your cluster when
#                      CLUSTERCONTEXT_TARGET is set and kubectl has a current context, else in the local sandbox cluster
#   ./build.sh test    build everything and run every test (needs root: the pod sandbox uses Linux namespaces)
#   ./build.sh bench   throughput of client -> agent -> TCP echo against a direct loopback socket, and agent memory;
#                      ./build.sh bench incoming: the pod's incoming traffic through the agent vs direct (wrk)
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
  # kubectl exec tests run curl in the pod and kubectl under a terminal of script's.
  command -v curl >/dev/null || missing+=(curl)
  command -v script >/dev/null || missing+=(bsdutils)
  command -v setsid >/dev/null || missing+=(util-linux)
  # The incoming redirect tests list the pod's nftables ruleset with nft and drop NET_ADMIN with setpriv.
  command -v nft >/dev/null || missing+=(nftables)
  command -v setpriv >/dev/null || missing+=(util-linux)
  # The incoming end-to-end tests and the incoming benchmark load the pod from the client pod with wrk.
  command -v wrk >/dev/null || missing+=(wrk)
  # The Kubernetes API double is checked with clients this project did not write: kubectl and the Python client.
  /usr/bin/python3 -c 'import kubernetes' 2>/dev/null || missing+=(python3-kubernetes)
  # The configuration schema is checked with a validator this project did not write; the sandbox's client pod
  # reaches services through a kube-proxy-style DNAT written with nft.
  /usr/bin/python3 -c 'import jsonschema' 2>/dev/null || missing+=(python3-jsonschema)
  command -v nft >/dev/null || missing+=(nftables)
  # The native shim (src/ClusterContext.Shim) is compiled with gcc; its tests build a static program against libc.a.
  command -v gcc >/dev/null || missing+=(gcc)
  [ -f /usr/lib/x86_64-linux-gnu/libc.a ] || missing+=(libc6-dev)
  command -v redis-cli >/dev/null || missing+=(redis-tools)
  # The shim's documented limit for Node is shown with node itself.
  command -v node >/dev/null || missing+=(nodejs)
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

run_demo() {
  local project
  for project in src/ClusterContext samples/OrdersConsole tests/SandboxCluster; do
    dotnet build "$project" --no-restore --verbosity quiet -nologo -consoleLoggerParameters:NoSummary
  done
  local hook=$PWD/src/ClusterContext/bin/Debug/net10.0/ClusterContext.dll
  local sample=$PWD/samples/OrdersConsole/bin/Debug/net10.0/OrdersConsole.dll
  if [ -n "${CLUSTERCONTEXT_TARGET:-}" ] && command -v kubectl >/dev/null && kubectl config current-context >/dev/null 2>&1; then
    echo "== samples/OrdersConsole in the context of $CLUSTERCONTEXT_TARGET (kubectl context $(kubectl config current-context))"
    DOTNET_STARTUP_HOOKS=$hook dotnet "$sample"
    return
  fi

  echo "== No cluster configured (set CLUSTERCONTEXT_TARGET and a kubectl context to use yours): starting the local sandbox cluster"
  local work
  work=$(mktemp -d)
  dotnet tests/SandboxCluster/bin/Debug/net10.0/SandboxCluster.dll --kubeconfig "$work/kubeconfig" >"$work/cluster.log" 2>&1 &
  local cluster=$!
  # shellcheck disable=SC2064 # expand now: the trap must stop this cluster, even after the function returns
  trap "kill -TERM $cluster 2>/dev/null; wait $cluster 2>/dev/null; rm -rf '$work'" EXIT
  for _ in $(seq 1 120); do
    grep -q "Ctrl+C stops" "$work/cluster.log" && break
    kill -0 "$cluster" 2>/dev/null || break
    sleep 0.5
  done
  sed 's/^/   /' "$work/cluster.log"
  grep -q "Ctrl+C stops" "$work/cluster.log" || { echo "The sandbox cluster did not start." >&2; return 1; }

  echo
  if command -v kubectl >/dev/null; then
    echo "== kubectl get all   (KUBECONFIG=$work/kubeconfig)"
    KUBECONFIG=$work/kubeconfig kubectl get all | sed 's/^/   /'
  else
    echo "== (kubectl is not installed: the sandbox cluster is not listed; everything else works without it)"
  fi

  echo
  echo "== samples/OrdersConsole as it is: it sees this machine (the cluster's services are not called: their names mean nothing here)"
  (cd "$work" && REDIS_HOST= WEB_URL= dotnet "$sample" | sed 's/^/   /')

  echo
  echo "== the same app with DOTNET_STARTUP_HOOKS=ClusterContext.dll and CLUSTERCONTEXT_TARGET=deployment/orders: it sees the pod"
  (cd "$work" && KUBECONFIG=$work/kubeconfig CLUSTERCONTEXT_TARGET=deployment/orders DOTNET_STARTUP_HOOKS=$hook dotnet "$sample" 2>&1 | sed 's/^/   /')

  echo
  echo "== stopping the sandbox cluster"
  kill -TERM "$cluster"
  wait "$cluster" || true
  tail -n 2 "$work/cluster.log" | sed 's/^/   /'
  trap - EXIT
  rm -rf "$work"
}

run_tests() {
  local results=artifacts/test-results
  rm -rf "$results"
  dotnet build LocalK8s.sln --no-restore --verbosity quiet -nologo
  # The sandbox kubelet runs the agent as the image ships it, compiled ahead of time (AgentProcess.NativeAgent);
  # the agent's own tests run the framework-dependent build beside it.
  dotnet publish src/Agent -c Release -r linux-x64 -p:PublishAot=true -o src/Agent/bin/Debug/net10.0/aot --verbosity quiet -nologo
  local status=0
  dotnet test LocalK8s.sln --no-build --verbosity quiet -nologo --filter "Category!=Load" -p:SkipCliTests=true \
    --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" || status=$?
  # clusterctx's tests start whole programs against sandbox clusters of their own (the tool, its session hosts, apps
  # under the hook, a second sandbox): on their own, after the others, so that their load is not on the timing of those.
  dotnet test tests/ClusterContext.Cli.Tests --no-build --verbosity quiet -nologo \
    --logger "trx;LogFilePrefix=cli" --logger "console;verbosity=normal" --results-directory "$results" || status=$?
  # Tests that load every core on purpose run on their own, one project after the other, so that their load
  # neither slows the other tests past their timeouts nor is diluted by them.
  local project
  for project in tests/ClusterContext.Tests tests/ClusterContext.EndToEndTests; do
    dotnet test "$project" --no-build --verbosity quiet -nologo --filter "Category=Load" \
      --logger "trx;LogFilePrefix=load" --logger "console;verbosity=normal" --results-directory "$results" || status=$?
  done
  # The detour engine's tests once more, built as Release: what users build their apps with.
  dotnet build tests/ClusterContext.Tests -c Release --no-restore --verbosity quiet -nologo
  dotnet test tests/ClusterContext.Tests -c Release --no-build --verbosity quiet -nologo \
    --filter "FullyQualifiedName~ClusterContext.Tests.Patching&Category!=Load" \
    --logger "trx;LogFilePrefix=release" --logger "console;verbosity=normal" --results-directory "$results" || status=$?
  local passed=0 failed=0 count
  for trx in "$results"/*.trx; do
    [ -e "$trx" ] || continue
    count=$(grep -o '<Counters [^>]*' "$trx" | grep -o ' passed="[0-9]*"' | grep -o '[0-9]*' || echo 0)
    passed=$((passed + count))
    count=$(grep -o '<Counters [^>]*' "$trx" | grep -o ' failed="[0-9]*"' | grep -o '[0-9]*' || echo 0)
    failed=$((failed + count))
    # A test host that crashed ends the run with the tests it had not run yet uncounted: the run itself failed.
    # (A failing test's own "[FAIL]" line is recorded as an error message of the run too: that one is counted above.)
    if grep -A1 '<RunInfo [^>]*outcome="Error"' "$trx" | grep '<Text>' | grep -qv '\[FAIL\]</Text>'; then
      failed=$((failed + 1))
    fi
  done
  # The failed tests again, each with the start of its message, next to the totals, where a reader of the run's end
  # sees them.
  /usr/bin/python3 - "$results"/*.trx <<'PY' || true
import sys, xml.etree.ElementTree as tree
for path in sys.argv[1:]:
    try:
        root = tree.parse(path).getroot()
    except (OSError, tree.ParseError):
        continue
    for element in root.iter():
        text = next((e.text or '' for e in element.iter() if e.tag.endswith('Text')), '').strip()
        if element.tag.endswith('RunInfo') and element.get('outcome') == 'Error' and not text.endswith('[FAIL]'):
            title, tag, lines = f"the test run of {path} was aborted", 'Text', 6
        elif element.tag.endswith('UnitTestResult') and element.get('outcome') == 'Failed':
            title, tag, lines = element.get('testName'), 'Message', 12
        else:
            continue
        print(f"failed: {title}")
        text = next((e.text or '' for e in element.iter() if e.tag.endswith(tag)), '').strip()
        for line in text.splitlines()[:lines]:
            print(f"  {line[:400]}")
PY
  echo "$passed passed, $failed failed"
  return $status
}

case "${1:-}" in
  demo)
    install_prerequisites
    run_demo
    ;;
  test)
    install_prerequisites
    run_tests
    ;;
  bench)
    install_prerequisites
    dotnet build bench/ClusterContext.Benchmarks -c Release --no-restore --verbosity quiet -nologo
    # The agent as the image ships it (AgentProcess.NativeAgent), beside the Release build the benchmarks run.
    dotnet publish src/Agent -c Release -r linux-x64 -p:PublishAot=true -o src/Agent/bin/Release/net10.0/aot --verbosity quiet -nologo
    dotnet run --no-build -c Release --project bench/ClusterContext.Benchmarks -- "${@:2}"
    ;;
  *)
    echo "usage: $0 demo|test|bench" >&2
    exit 2
    ;;
esac
