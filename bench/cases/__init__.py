"""One module per benchmark; each has ``run(ctx) -> Table``."""
