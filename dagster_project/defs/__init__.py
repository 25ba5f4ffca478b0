"""Dagster definitions of aap, one module per area, loaded by ``dagster_project.definitions``."""
