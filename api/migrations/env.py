"""Alembic environment of the flowopt API.

The API runs ``upgrade head`` at every startup (``api.db.migrate``), passing its own
connection. From a shell, ``alembic -c api/alembic.ini upgrade head`` uses
``FLOWOPT_DATABASE_URL`` (or the default SQLite file of ``api.settings``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from api.db import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from api.settings import Settings

    return Settings.from_env().effective_database_url


def run_migrations_offline() -> None:
    """Emit the SQL of the migrations without a database (``alembic upgrade head --sql``)."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the connection the API passed in, or on a new one."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config({"sqlalchemy.url": _url()}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
