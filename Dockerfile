# syntax=docker/dockerfile:1
# Build: SDK image, restore from the project files first so the layer is cached, then publish (no tests here;
# CI runs them with the same script as the README).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props NetworkSecurity.sln ./
COPY src/NetworkSecurity.Learning/NetworkSecurity.Learning.csproj src/NetworkSecurity.Learning/
COPY src/NetworkSecurity.Pipeline/NetworkSecurity.Pipeline.csproj src/NetworkSecurity.Pipeline/
COPY src/NetworkSecurity.Storage/NetworkSecurity.Storage.csproj src/NetworkSecurity.Storage/
COPY src/NetworkSecurity.Tracking/NetworkSecurity.Tracking.csproj src/NetworkSecurity.Tracking/
COPY src/NetworkSecurity.MongoDb/NetworkSecurity.MongoDb.csproj src/NetworkSecurity.MongoDb/
COPY src/NetworkSecurity.Api/NetworkSecurity.Api.csproj src/NetworkSecurity.Api/
RUN dotnet restore src/NetworkSecurity.Api/NetworkSecurity.Api.csproj
COPY src/ src/
RUN dotnet publish src/NetworkSecurity.Api/NetworkSecurity.Api.csproj -c Release -o /app/publish --no-restore

# Run: ASP.NET runtime only, as a non-root user, with the data, the schema and the writable folders as volumes.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
# libmongoc: the MongoDB C driver the data source binds to (renamed with a t64 suffix in newer Debian/Ubuntu).
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl \
    && (apt-get install -y --no-install-recommends libmongoc-1.0-0t64 libbson-1.0-0t64 \
        || apt-get install -y --no-install-recommends libmongoc-1.0-0 libbson-1.0-0) \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/publish ./
COPY Network_Data/ Network_Data/
COPY data_schema/ data_schema/
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin networksecurity \
    && mkdir -p final_model Artifacts Logs mlruns \
    && chown -R 10001:10001 final_model Artifacts Logs mlruns
USER 10001
ENV ASPNETCORE_URLS=http://+:8080 \
    DOTNET_gcServer=0
EXPOSE 8080
VOLUME ["/app/final_model", "/app/Artifacts", "/app/Logs", "/app/mlruns"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD curl -fsS http://localhost:8080/health/ready || exit 1
ENTRYPOINT ["dotnet", "NetworkSecurity.Api.dll"]
