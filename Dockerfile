# syntax=docker/dockerfile:1
# Multi-stage build of the serverv3 executable: SDK image to publish, ASP.NET runtime image to run.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/ServerV3.Server -c Release -o /app --no-self-contained

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
LABEL org.opencontainers.image.title="serverv3" \
      org.opencontainers.image.description="DeepSeek-V3-architecture inference engine on ILGPU" \
      org.opencontainers.image.licenses="MIT"
WORKDIR /app
COPY --from=build /app .
# Models are mounted here; the image holds no weights.
VOLUME ["/models"]
USER app
ENTRYPOINT ["dotnet", "/app/serverv3.dll"]
CMD ["--help"]
