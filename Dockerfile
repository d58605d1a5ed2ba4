FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway gateway
COPY schema schema
COPY spreadsheets spreadsheets
COPY resolvers resolvers
COPY loaders loaders
# /keys is owned by fir so that a named volume mounted there (docker-compose.yml's logkey) is writable;
# /data is FIR_DATA_DIR, the fleet-check spool (a system user has no home for the per-user default)
RUN pip install --no-cache-dir . && useradd --system fir && install -d -o fir -m 0700 /keys /data
ENV FIR_DATA_DIR=/data
USER fir
EXPOSE 8000
CMD ["fir", "serve"]
