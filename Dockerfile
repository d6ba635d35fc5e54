# syntax=docker/dockerfile:1
# NetworkSecurity: phishing-site classifier (web API + CLI) in one image.
#   docker build -t networksecurity .
#   docker run -p 8080:8080 -v ns-models:/app/final_model networksecurity          # web API
#   docker run --rm -v ns-models:/app/final_model networksecurity train             # one training run
# Deployment notes: docs/deployment.md.

# ---- Build: SDK image. Project files first so the restore layer is cached until a csproj or props file changes.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/NetworkSecurity.Learning/NetworkSecurity.Learning.csproj src/NetworkSecurity.Learning/
COPY src/NetworkSecurity.Learning.MLNet/NetworkSecurity.Learning.MLNet.csproj src/NetworkSecurity.Learning.MLNet/
COPY src/NetworkSecurity.Pipeline/NetworkSecurity.Pipeline.csproj src/NetworkSecurity.Pipeline/
COPY src/NetworkSecurity.Storage/NetworkSecurity.Storage.csproj src/NetworkSecurity.Storage/
COPY src/NetworkSecurity.Tracking/NetworkSecurity.Tracking.csproj src/NetworkSecurity.Tracking/
COPY src/NetworkSecurity.MongoDb/NetworkSecurity.MongoDb.csproj src/NetworkSecurity.MongoDb/
COPY src/NetworkSecurity.Api/NetworkSecurity.Api.csproj src/NetworkSecurity.Api/
RUN dotnet restore src/NetworkSecurity.Api/NetworkSecurity.Api.csproj
COPY src/ src/
# The bundled data set, schema and grid are published beside the program (found from any working folder).
COPY Network_Data/ Network_Data/
COPY data_schema/ data_schema/
# No tests here: CI runs them (scripts/test.sh) before this image is built. No apphost: started with `dotnet`.
RUN dotnet publish src/NetworkSecurity.Api/NetworkSecurity.Api.csproj -c Release -o /app/publish \
        --no-restore -p:UseAppHost=false

# ---- Run: ASP.NET Core runtime only.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# curl serves the HEALTHCHECK. MongoDB needs nothing here: the official MongoDB.Driver is managed code. libgomp1:
# OpenMP, which LightGBM's native library (lib_lightgbm.so, shipped in the LightGBM package) links against.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY --from=build /app/publish ./
# The program and its inputs stay root-owned (read-only for the service); only the four output folders are writable.
RUN groupadd --gid 10001 networksecurity \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin networksecurity \
    && mkdir -p final_model Artifacts Logs mlruns \
    && chown -R 10001:10001 final_model Artifacts Logs mlruns
USER 10001

# Workstation GC: the service is small and usually shares its host with other containers.
ENV ASPNETCORE_URLS=http://+:8080 \
    DOTNET_gcServer=0
EXPOSE 8080
# Declared after the chown so a fresh named volume starts with the service user's ownership.
VOLUME ["/app/final_model", "/app/Artifacts", "/app/Logs", "/app/mlruns"]
# Ready = a model is loaded (and MongoDB answers when it is configured). The start period covers a first training run.
HEALTHCHECK --interval=15s --timeout=3s --start-period=90s --retries=3 \
    CMD curl -fsS http://localhost:8080/health/ready || exit 1
ENTRYPOINT ["dotnet", "NetworkSecurity.Api.dll"]
