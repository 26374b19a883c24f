"""Staff API: read full records and change request status (bearer token)."""
