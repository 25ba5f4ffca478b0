"""Transforms: pure functions turning a raw spider item into a record (see ``normalize.to_record``).

Every function here is deterministic: the run date ("as of", "now") is always passed in.
"""
