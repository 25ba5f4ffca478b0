-- Analyst views. A view cannot take "now": every view is computed as of the latest harvest
-- (table `harvests`), the same moment the stored statuses were computed against, so the views and the
-- `status` column always agree. "This week" is the 7 days ending at that harvest.

CREATE VIEW as_of AS
SELECT arg_max(run_id, harvested_at) AS run_id,
       max(harvested_at)             AS harvested_at,
       arg_max(as_of, harvested_at)  AS as_of,
       max(harvested_at) - INTERVAL 7 DAY AS week_start
FROM harvests;

-- One row per open call (status open, closing_soon or rolling); duplicates across sources are folded
-- into their cluster's preferred record, `copies` counts the records of the cluster.
CREATE VIEW open_calls AS
SELECT c.id, c.cluster_id, k.copies, c.source, c.title, c.funder, c.programme, c.url, c.application_url,
       c.perimeter_scale, c.perimeter_label, c.perimeter_regions, c.perimeter_departments,
       c.opens_on, c.deadlines, c.next_deadline, c.next_deadline - a.as_of AS days_left,
       c.deadline_kind, c.status, c.ccas_eligibility, c.ccas_evidence, c.themes, c.categories,
       c.aid_types, c.amount_min, c.amount_max, c.first_seen_at, c.last_seen_at
FROM calls c
JOIN (SELECT cluster_id, count(*) AS copies FROM calls GROUP BY cluster_id) k USING (cluster_id)
CROSS JOIN as_of a
WHERE c.is_preferred AND c.status IN ('open', 'closing_soon', 'rolling');

-- Open calls whose next deadline is within 14 days of the latest harvest (deadline day included).
CREATE VIEW closing_soon AS
SELECT o.* FROM open_calls o CROSS JOIN as_of a
WHERE o.next_deadline BETWEEN a.as_of AND a.as_of + 14;

-- Open calls a CCAS/CIAS can answer itself: eligibility explicit or likely.
CREATE VIEW ccas_open AS
SELECT * FROM open_calls WHERE ccas_eligibility IN ('explicit', 'likely');

-- Calls (clusters) first seen in the 7 days ending at the latest harvest, whatever their status.
CREATE VIEW new_this_week AS
SELECT c.id, c.cluster_id, c.source, c.title, c.funder, c.url, c.perimeter_label, c.next_deadline,
       c.status, c.ccas_eligibility, c.themes, c.amount_max, k.cluster_first_seen AS first_seen_at
FROM calls c
JOIN (SELECT cluster_id, min(first_seen_at) AS cluster_first_seen FROM calls GROUP BY cluster_id) k
     USING (cluster_id)
CROSS JOIN as_of a
WHERE c.is_preferred AND c.status <> 'withdrawn' AND k.cluster_first_seen > a.week_start;

-- Versions opened in the 7 days ending at the latest harvest (content, calendar or both), with what changed.
CREATE VIEW changed_this_week AS
SELECT v.call_id AS id, c.cluster_id, c.source, c.title, c.funder, c.url, v.version, v.change_kind,
       v.changes, v.valid_from AS changed_at, c.next_deadline, c.status, c.ccas_eligibility, c.themes
FROM call_versions v
JOIN calls c ON c.id = v.call_id
CROSS JOIN as_of a
WHERE v.change_kind <> 'new' AND v.valid_from > a.week_start;

-- Open calls per theme (a call with several themes counts in each).
CREATE VIEW by_theme AS
SELECT theme, count(*) AS open_calls,
       count(*) FILTER (WHERE ccas_eligibility IN ('explicit', 'likely')) AS ccas_open,
       count(*) FILTER (WHERE status = 'closing_soon') AS closing_soon,
       min(next_deadline) AS next_deadline
FROM (SELECT unnest(CASE WHEN len(themes) = 0 THEN ['(none)'] ELSE themes END) AS theme, *
      FROM open_calls)
GROUP BY theme;

-- Open calls per INSEE region code; calls with a national or European perimeter and no region list are
-- counted under 'national' / 'europe'.
CREATE VIEW by_region AS
SELECT region, count(*) AS open_calls,
       count(*) FILTER (WHERE ccas_eligibility IN ('explicit', 'likely')) AS ccas_open,
       count(*) FILTER (WHERE status = 'closing_soon') AS closing_soon,
       min(next_deadline) AS next_deadline
FROM (SELECT unnest(CASE WHEN len(perimeter_regions) > 0 THEN perimeter_regions
                         ELSE [coalesce(perimeter_scale, '(unknown)')] END) AS region, *
      FROM open_calls)
GROUP BY region;
