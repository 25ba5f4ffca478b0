"""The Dagster project of aap: per-source crawl → transform → load assets, the published snapshot and the
weekly exports, with checks that catch broken spiders, schedules and alerts. See ``README.md``."""
