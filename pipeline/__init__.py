"""aap's pipeline package: record schema, configuration, runs and the ``aap`` command line."""

# first: whether the compiled build or the sources run is settled before ``pipeline.schema`` can load
from pipeline import compiled  # noqa: F401
