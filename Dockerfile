# syntax=docker/dockerfile:1
# Multi-stage build of the serverv3 executable: SDK image to publish, ASP.NET runtime image to run.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/ServerV3.Server -c Release -o /app --no-self-contained

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
LABEL org.opencontainers.image.title="serverv3" \
      org.opencontainers.image.description="OpenAI-compatible DeepSeek-V3-architecture inference server on ILGPU" \
      org.opencontainers.image.licenses="MIT"
WORKDIR /app
COPY --from=build /app .
# Models are mounted here; the image holds no weights.
VOLUME ["/models"]
EXPOSE 8000
USER app
# No arguments serves the built-in demo model on port 8000; pass `--model /models/NAME` for another one.
ENTRYPOINT ["dotnet", "/app/serverv3.dll"]
