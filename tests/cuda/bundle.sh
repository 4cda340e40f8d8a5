#!/usr/bin/env bash
# Builds what tests/cuda/check.sh runs on a GPU machine that has no .NET: a self-contained serverv3 for linux-x64,
# trimmed (the assemblies ILGPU reflects on stay whole: see ServerV3.Server.csproj) so that it fits beside the
# repository in a device run, packed as .gpu/serverv3.tar.xz. Usage: tests/cuda/bundle.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# Trim warnings concern the framework's reflection paths, not warnings in this code: the normal build keeps them errors.
dotnet publish src/ServerV3.Server -c Release -r linux-x64 --self-contained -p:PublishTrimmed=true \
  -p:TreatWarningsAsErrors=false -p:SuppressTrimAnalysisWarnings=true -o "$stage/serverv3" >&2
# Debugger, alternative-GC and tracing libraries the check never loads; the demo model travels with the repository.
rm -rf "$stage"/serverv3/models
rm -f "$stage"/serverv3/{libmscordaccore.so,libmscordbi.so,libclrgc.so,libclrgcexp.so,libcoreclrtraceptprovider.so,createdump} "$stage"/serverv3/*.pdb
mkdir -p .gpu
tar -C "$stage" -cf - serverv3 | xz -9 -T0 > .gpu/serverv3.tar.xz
ls -l .gpu/serverv3.tar.xz
