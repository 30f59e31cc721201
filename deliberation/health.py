from deliberation.tables import Township


async def database_answers() -> None:
    """Raises if the database does not answer a trivial query."""
    await Township.select(Township.id).limit(1)
