-- Core tables of the aap warehouse. Timestamps are UTC (TIMESTAMP without zone); dates are Europe/Paris.

-- One row per harvest: the moment "now" of the load, and the date the views are computed against.
CREATE TABLE harvests (
    run_id       VARCHAR PRIMARY KEY,
    harvested_at TIMESTAMP NOT NULL,
    as_of        DATE NOT NULL,
    loaded_at    TIMESTAMP NOT NULL
);

-- One row per source per harvest: crawl statistics and what the load did with the records.
CREATE TABLE harvest_runs (
    run_id           VARCHAR NOT NULL,
    source           VARCHAR NOT NULL,
    ok               BOOLEAN NOT NULL,
    items            INTEGER,
    requests         INTEGER,
    responses        JSON,
    errors           JSON,
    failed_urls      JSON,
    bytes_downloaded BIGINT,
    duration_s       DOUBLE,
    started_at       VARCHAR,
    finished_at      VARCHAR,
    finish_reason    VARCHAR,
    reason           VARCHAR,
    harvested_at     TIMESTAMP NOT NULL,
    new              INTEGER NOT NULL DEFAULT 0,
    updated          INTEGER NOT NULL DEFAULT 0,
    unchanged        INTEGER NOT NULL DEFAULT 0,
    withdrawn        INTEGER NOT NULL DEFAULT 0,
    rejected         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, source)
);

-- Current state: one row per stable call id (`source:native-id`).
CREATE TABLE calls (
    id                    VARCHAR PRIMARY KEY,
    source                VARCHAR NOT NULL,
    source_level          VARCHAR NOT NULL,
    native_id             VARCHAR,
    url                   VARCHAR NOT NULL,
    canonical_url         VARCHAR NOT NULL,
    application_url       VARCHAR,
    title                 VARCHAR NOT NULL,
    summary               VARCHAR,
    description           VARCHAR,
    eligibility_text      VARCHAR,
    deadline_text         VARCHAR,
    funder                VARCHAR,
    programme             VARCHAR,
    perimeter_scale       VARCHAR,
    perimeter_regions     VARCHAR[],
    perimeter_departments VARCHAR[],
    perimeter_label       VARCHAR,
    opens_on              DATE,
    deadlines             DATE[],
    deadline_time         VARCHAR,
    next_deadline         DATE,
    deadline_kind         VARCHAR NOT NULL,
    status                VARCHAR NOT NULL,
    record_status         VARCHAR,
    deadline_flags        VARCHAR[],
    audiences             VARCHAR[],
    ccas_eligibility      VARCHAR NOT NULL,
    ccas_evidence         VARCHAR,
    ccas_rule             VARCHAR,
    themes                VARCHAR[],
    categories            VARCHAR[],
    theme_evidence        JSON,
    aid_types             VARCHAR[],
    amount_min            DOUBLE,
    amount_max            DOUBLE,
    is_call_for_projects  BOOLEAN,
    unmapped_labels       VARCHAR[],
    content_hash          VARCHAR NOT NULL,
    calendar_hash         VARCHAR NOT NULL,
    raw                   JSON,
    version               INTEGER NOT NULL,
    first_seen_at         TIMESTAMP NOT NULL,
    last_seen_at          TIMESTAMP NOT NULL,
    last_seen_run         VARCHAR NOT NULL,
    content_changed_at    TIMESTAMP,
    calendar_changed_at   TIMESTAMP,
    withdrawn_at          TIMESTAMP,
    cluster_id            VARCHAR,
    is_preferred          BOOLEAN
);

-- History: a new version whenever the content or the calendar of a call changes.
CREATE TABLE call_versions (
    call_id       VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    valid_from    TIMESTAMP NOT NULL,
    valid_to      TIMESTAMP,
    run_id        VARCHAR NOT NULL,
    change_kind   VARCHAR NOT NULL,   -- new | content | calendar | both
    changes       VARCHAR NOT NULL,   -- human text, e.g. "deadline moved from 2026-01-15 to 2026-02-01"
    content_hash  VARCHAR NOT NULL,
    calendar_hash VARCHAR NOT NULL,
    record        JSON NOT NULL,      -- the content and calendar fields of this version
    PRIMARY KEY (call_id, version)
);

-- Provenance: every source record (source, native id, URL) that described a call, and when.
CREATE TABLE call_sources (
    call_id       VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,
    native_id     VARCHAR,
    url           VARCHAR NOT NULL,
    first_seen_at TIMESTAMP NOT NULL,
    last_seen_at  TIMESTAMP NOT NULL,
    last_run_id   VARCHAR NOT NULL,
    PRIMARY KEY (call_id, url)
);

-- Records that could not be stored, with the reason; never silently dropped.
CREATE TABLE quarantine (
    run_id         VARCHAR NOT NULL,
    source         VARCHAR NOT NULL,
    native_id      VARCHAR,
    url            VARCHAR,
    reason         VARCHAR NOT NULL,
    raw            JSON,
    quarantined_at TIMESTAMP NOT NULL
);
