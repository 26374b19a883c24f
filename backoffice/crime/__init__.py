"""Crime reports ("Denuncia Digital", crime-report.md): filed by the assistant for a
signed-in resident who passed a two-factor check, reviewed by the prosecutor's office.

- `models.py`: the tables (registered on backoffice.models.Base; migration 0004).
- `service.py`: filing (identity and second factor checked here, not trusted from the
  caller), review (accept / ask for missing facts), the resident's answers.
- `signing.py`: Ed25519 signatures of accepted reports; `pdf.py` the signed PDF;
  `links.py` the resident's short-lived download links.
- `routes.py`: the assistant's API (api_key), the prosecutor's office API (its own
  bearer token) and the public endpoints (download with a link, verify a PDF).

Reports are sensitive: only their author (through their signed-in conversation)
and the prosecutor's office read them, and nothing of their content is logged:
log lines carry folios, types, states and error classes only.
"""
