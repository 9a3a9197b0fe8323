# The customer360 API. Applies pending Cypher migrations, then serves /graphql on port 8000.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY graph ./graph
COPY api ./api
COPY cypher ./cypher
RUN pip install --no-cache-dir -e .
EXPOSE 8000
CMD ["sh", "-c", "c360 migrate && exec c360 serve"]
