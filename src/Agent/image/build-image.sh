#!/usr/bin/env bash
# Builds the agent image as an OCI image archive without Docker: publishes the agent compiled ahead of time (Native
# AOT: one native executable, no .NET runtime in the image, no JIT at start), lays out a
# root filesystem holding it and the shared libraries it links (nothing else), and writes the OCI layout
# (blobs, manifest, config, index) as a tar that `skopeo copy oci-archive:…`, `podman load` or `crane push` take.
#
#   src/Agent/image/build-image.sh [--tag clustercontext/agent:VERSION] [--output DIR] [--rootfs-only]
set -euo pipefail

root="$(cd "$(dirname "$0")/../../.." && pwd)"
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/Directory.Build.props" | head -1)"
tag="clustercontext/agent:${version:-0.1.0}"
output="$root/artifacts/agent-image"
rootfs_only=false
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    --rootfs-only) rootfs_only=true; shift ;;
    *) echo "unknown argument $1 (use --tag, --output, --rootfs-only)" >&2; exit 2 ;;
  esac
done

case "$(uname -m)" in
  x86_64) rid=linux-x64; arch=amd64 ;;
  aarch64) rid=linux-arm64; arch=arm64 ;;
  *) echo "unsupported machine $(uname -m)" >&2; exit 1 ;;
esac

rm -rf "$output"
mkdir -p "$output/publish" "$output/rootfs" "$output/oci/blobs/sha256"
echo "Publishing the agent (Native AOT, $rid)..."
dotnet publish "$root/src/Agent/Agent.csproj" -c Release -r "$rid" -p:PublishAot=true -p:StripSymbols=true \
  -p:DebugType=none -o "$output/publish" --nologo -v quiet
install -m 0755 "$output/publish/clusterctx-agent" "$output/rootfs/clusterctx-agent"

# The shared libraries the binary links, at the paths the dynamic loader looks for them.
for library in $(ldd "$output/rootfs/clusterctx-agent" | grep -o '/[^ ]*' | sort -u); do
  mkdir -p "$output/rootfs$(dirname "$library")"
  cp -L "$library" "$output/rootfs$library"
done
# Mount points the container runtime fills (proc, sys, dev) and a writable /tmp.
mkdir -p "$output/rootfs/tmp" "$output/rootfs/proc" "$output/rootfs/sys" "$output/rootfs/dev"
chmod 1777 "$output/rootfs/tmp"
$rootfs_only && { echo "Root filesystem: $output/rootfs"; exit 0; }

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }

# One layer, reproducible: fixed owner, order and times.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2000-01-01 00:00Z' -C "$output/rootfs" -cf "$output/layer.tar" .
diff_id="$(sha "$output/layer.tar")"
gzip -n -9 -c "$output/layer.tar" > "$output/layer.tar.gz"
layer="$(sha "$output/layer.tar.gz")"
mv "$output/layer.tar.gz" "$output/oci/blobs/sha256/$layer"
layer_size="$(size "$output/oci/blobs/sha256/$layer")"

cat > "$output/config.json" <<JSON
{"architecture":"$arch","os":"linux","config":{"Entrypoint":["/clusterctx-agent"],"WorkingDir":"/","Labels":{"org.opencontainers.image.title":"clusterctx-agent","org.opencontainers.image.version":"${version:-0.1.0}"}},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},"history":[{"created_by":"build-image.sh: clusterctx-agent (Native AOT) and its shared libraries"}]}
JSON
config="$(sha "$output/config.json")"
config_size="$(size "$output/config.json")"
mv "$output/config.json" "$output/oci/blobs/sha256/$config"

cat > "$output/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config","size":$config_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$layer","size":$layer_size}]}
JSON
manifest="$(sha "$output/manifest.json")"
manifest_size="$(size "$output/manifest.json")"
mv "$output/manifest.json" "$output/oci/blobs/sha256/$manifest"

cat > "$output/oci/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest","size":$manifest_size,"annotations":{"org.opencontainers.image.ref.name":"$tag"}}]}
JSON
echo '{"imageLayoutVersion":"1.0.0"}' > "$output/oci/oci-layout"
archive="$output/clusterctx-agent-image.tar"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2000-01-01 00:00Z' -C "$output/oci" -cf "$archive" .
rm -f "$output/layer.tar"

unpacked=$(du -sb "$output/rootfs" | cut -f1)
echo "Image $tag: $archive"
echo "  compressed layer $(numfmt --to=iec "$layer_size"), unpacked $(numfmt --to=iec "$unpacked") (goal: under 16 MB)"
echo "  load with: skopeo copy oci-archive:$archive docker-daemon:$tag   (or podman load -i $archive)"
