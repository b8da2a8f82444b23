"""HTTP API (FastAPI): composition in ``app.create_app``; routes only validate and delegate."""
