"""Routers of the API, one module per resource: health, scenarios, plans, jobs."""
