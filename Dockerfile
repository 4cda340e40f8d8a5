# syntax=docker/dockerfile:1
# The serverv3 image: the SDK publishes the server, a .NET runtime image runs it.
#
#   docker build -t serverv3 .                                        # CPU (ILGPU's CPU accelerator)
#   docker build --build-arg VARIANT=cuda -t serverv3:cuda .          # NVIDIA GPUs (ILGPU's CUDA backend)
#   docker run -p 8000:8000 serverv3                                  # serves the built-in demo model
#   docker run --gpus all -p 8000:8000 -v /srv/models:/models:ro serverv3:cuda --model /models/DeepSeek-V3
#
# The container runs as the non-root user app (uid 1654) and writes nothing outside /tmp, so it runs with a
# read-only root filesystem (docker run --read-only --tmpfs /tmp; Kubernetes readOnlyRootFilesystem with an
# emptyDir at /tmp). Every setting is also an environment variable SERVERV3_<Setting> (SERVERV3_KVCACHEMEMORY=0.9).

# cpu: mcr.microsoft.com/dotnet/aspnet (Ubuntu 24.04). cuda: an NVIDIA CUDA image of the same Ubuntu with that
# image's .NET runtime copied in. ILGPU compiles its kernels to PTX itself and needs only the driver library
# (libcuda), which the NVIDIA container toolkit mounts, so the small `base` CUDA flavour suffices; any
# nvidia/cuda:*-ubuntu24.04 image (runtime, cudnn-runtime) works as CUDA_IMAGE.
ARG VARIANT=cpu
ARG DOTNET_VERSION=10.0
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-base-ubuntu24.04

# ---- build: restore (cached while no project file changes), then publish framework-dependent, arch-neutral IL.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION}-noble AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/ServerV3.Kernels/ServerV3.Kernels.csproj src/ServerV3.Kernels/
COPY src/ServerV3.Engine/ServerV3.Engine.csproj src/ServerV3.Engine/
COPY src/ServerV3.Tokenization/ServerV3.Tokenization.csproj src/ServerV3.Tokenization/
COPY src/ServerV3.Protocol/ServerV3.Protocol.csproj src/ServerV3.Protocol/
COPY src/ServerV3.Server/ServerV3.Server.csproj src/ServerV3.Server/
RUN dotnet restore src/ServerV3.Server/ServerV3.Server.csproj
COPY src/ src/
# The built-in demo model (16 MB) is published next to the executable, as `serverv3` with no --model serves it.
COPY models/kjv-tiny-v3/ models/kjv-tiny-v3/
RUN dotnet publish src/ServerV3.Server/ServerV3.Server.csproj -c Release -o /app --no-restore -p:UseAppHost=false

# ---- the .NET runtime image (also the source of the runtime for the CUDA variant).
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble AS base-cpu

# ---- NVIDIA CUDA base with the .NET runtime.
FROM ${CUDA_IMAGE} AS base-cuda
ENV APP_UID=1654 \
    DOTNET_RUNNING_IN_CONTAINER=true \
    # The CUDA driver's PTX JIT cache goes to writable /tmp (the root filesystem may be read-only).
    CUDA_CACHE_PATH=/tmp/.nv/ComputeCache \
    # .NET resolves ILGPU's driver import `cuda` as libcuda.so; the container toolkit mounts only libcuda.so.1.
    LD_LIBRARY_PATH=/usr/local/nvidia/lib:/usr/local/nvidia/lib64:/usr/local/lib/serverv3-cuda
# The .NET runtime's dependencies on Ubuntu 24.04 (the app runs with invariant globalization: no ICU needed).
# Non-interactive, or tzdata's configuration would wait for an answer.
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libc6 libgcc-s1 libssl3t64 libstdc++6 tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /usr/local/lib/serverv3-cuda \
    && ln -s "/usr/lib/$(uname -m)-linux-gnu/libcuda.so.1" /usr/local/lib/serverv3-cuda/libcuda.so \
    && groupadd --gid=$APP_UID app \
    && useradd --no-log-init --uid=$APP_UID --gid=$APP_UID --create-home app
COPY --from=base-cpu /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet

# ---- the image: base-cpu or base-cuda, chosen by VARIANT.
FROM base-${VARIANT} AS final
ARG VARIANT
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="serverv3" \
      org.opencontainers.image.description="OpenAI-compatible inference server for DeepSeek-V3-architecture models (ILGPU; ${VARIANT})" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      io.serverv3.variant="${VARIANT}"
ENV \
    # serverv3 binds SERVERV3_HOST:SERVERV3_PORT (0.0.0.0:8000) itself; clear the base image's ASPNETCORE port.
    ASPNETCORE_HTTP_PORTS= \
    # One line per request and probe from ASP.NET Core is noise; ServerV3's own log stays at Information.
    Logging__LogLevel__Microsoft.AspNetCore=Warning \
    Logging__Console__FormatterName=simple \
    Logging__Console__FormatterOptions__SingleLine=true \
    # The runtime's diagnostics socket and any temporary file go to /tmp, the only writable path.
    TMPDIR=/tmp \
    DOTNET_NOLOGO=1 \
    OTEL_SERVICE_NAME=serverv3
WORKDIR /app
COPY --from=build /app /app
# Model checkpoints are mounted here (read-only is enough); the image holds only the demo model.
VOLUME ["/models"]
EXPOSE 8000
# Numeric, so Kubernetes can verify runAsNonRoot.
USER 1654:1654
# Liveness for `docker run` (Kubernetes uses its own probes). The aspnet and CUDA images have no curl or wget;
# Ubuntu's bash opens TCP connections through /dev/tcp. /health answers at once, also while the model loads
# (/ready says when it can serve). The port follows SERVERV3_PORT, not a --port argument.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${SERVERV3_PORT:-8000} && printf 'GET /health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
# No arguments: `serve` the built-in demo model on 0.0.0.0:8000. Arguments are serverv3's (--model /models/NAME).
ENTRYPOINT ["dotnet", "/app/serverv3.dll"]
