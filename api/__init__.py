"""flowopt's HTTP API for the park dashboard (FastAPI), started by ``flowopt serve``.

Modules: ``main`` (app factory, lifespan, OpenAPI), ``settings`` (``FLOWOPT_*`` environment),
``errors`` (the error table and problem documents), ``bodies`` (strict JSON and the body-size
limit), ``deps`` (auth and helpers), ``service`` (what routes do, storage), ``db`` (tables and
migrations), ``pool`` and ``worker`` (solves in separate processes), ``routes`` (one module
per resource), ``docs``/``examples``/``openapi`` (the checked-in OpenAPI description).
"""
