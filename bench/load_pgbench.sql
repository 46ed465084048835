-- pgbench script for bench/load.sh: PostgreSQL's own ceiling for one
-- submission. One transaction stores one assessment and its 42 answers in
-- the real schema (db/migrations), with every trigger and constraint the
-- server's writes meet: the row is inserted as a draft, its answers are added,
-- then it is marked submitted under an idempotency key (the schema refuses
-- answers to an already submitted assessment).
--
-- Variables (pgbench -D): review, study_base, per_client, rater_base, n=0.
-- Client c submits as rater rater_base + c, for studies study_base +
-- c * per_client + 0, 1, ...; n counts the client's transactions. Each
-- transaction has a study of its own, which also names its idempotency key,
-- so no unique key ever collides (bench/load.sh moves study_base on for
-- each round).
\set n :n + 1
\set study :study_base + :client_id * :per_client + :n - 1
\set rater :rater_base + :client_id
BEGIN;
INSERT INTO assessments (review_id, study_id, rater_id, round, status, instrument_id, instrument_version, server_version) VALUES (:review, :study, :rater, 1, 'DRAFT', 'rqs2', '2.0', 'pgbench') RETURNING id AS assessment_id \gset
INSERT INTO assessment_answers (assessment_id, criterion, option_ids, points, rationale, evidence_page, evidence_section) SELECT :assessment_id, c, ARRAY['yes'], c % 2, 'Reported in the methods; see criterion ' || c || ' of the checklist.', '4', 'Methods' FROM generate_series(1, 42) AS c;
UPDATE assessments SET status = 'SUBMITTED', idempotency_key = 'pgbench-' || :study, submitted_at = now(), updated_at = now() WHERE id = :assessment_id;
END;
