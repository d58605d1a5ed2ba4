FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway gateway
COPY schema schema
COPY spreadsheets spreadsheets
COPY resolvers resolvers
COPY loaders loaders
RUN pip install --no-cache-dir . && useradd --system fir
USER fir
EXPOSE 8000
CMD ["fir", "serve"]
