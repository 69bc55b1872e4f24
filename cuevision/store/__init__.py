"""The service's state: a database (SQLAlchemy models, Alembic migrations) and a blob folder."""
