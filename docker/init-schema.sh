#!/bin/bash
# sluice-init-schema - the compose stack's one-shot init step, as the owner role: create or
# upgrade the schema (`sluice db setup`), then apply the GRANTs it prints for the ingest role.
# Connection settings come from the environment (POSTGRES_HOST, POSTGRES_USER, PGSSLMODE, ...);
# the password from POSTGRES_PASSWORD_FILE. Idempotent: it runs at every `up`.
set -euo pipefail
role=${INGEST_ROLE:?INGEST_ROLE names the ingest role}
grants=$(mktemp)
trap 'rm -f "$grants"' EXIT
sluice db setup --ingest-role "$role" >"$grants"
grep -qi '^GRANT' "$grants" || { echo "init: sluice db setup printed no GRANT" >&2; exit 1; }
PGPASSWORD=$(cat "${POSTGRES_PASSWORD_FILE:?}") \
    psql -X -q -v ON_ERROR_STOP=1 -h "${POSTGRES_HOST:?}" -p "${POSTGRES_PORT:-5432}" \
    -U "${POSTGRES_USER:?}" -d "${POSTGRES_DB:-ecommerce_db}" -f "$grants"
echo "init: schema current; $(grep -ci '^GRANT' "$grants") GRANTs applied for $role"
