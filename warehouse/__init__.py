"""The DuckDB warehouse of aap: migrations, the transactional loader, the read-only snapshot, exports."""
