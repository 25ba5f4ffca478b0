-- The hash of the raw item (plus the transforms' code, the source's metadata and the harvest date) a
-- call's stored record was transformed from: a harvest skips the transforms of an identical raw item.
-- NULL when the record was loaded without one (e.g. from staged records).
ALTER TABLE calls ADD COLUMN raw_hash VARCHAR;
