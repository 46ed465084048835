-- Faster review-wide reads (agreement, summaries, progress): compact copies
-- of the answers and round outcomes they need, and timestamp helpers that
-- PostgreSQL can inline.
--
-- A review of 2,000 studies x 3 raters x 42 criteria holds a quarter of a
-- million answer rows and 84,000 round criteria. Returning them one row
-- each costs PostgreSQL more CPU (executor and per-row output) than the
-- reads that need them may take altogether, and so does aggregating them on
-- the fly. Submitted answers, closed rounds and a study's consensus never
-- change, so each is copied once, when written, into one row per assessment,
-- round or study. The store reads the original rows whenever a copy is
-- missing (e.g. rows written with triggers disabled), so a copy only ever
-- saves time; it is never the only record of anything.

-- Declared STABLE, as the expressions they wrap are (extract() and interval
-- arithmetic on timestamptz), so that PostgreSQL inlines them: an IMMUTABLE
-- wrapper around a STABLE expression is called as a function, which cost a
-- review-wide read some 2 microseconds per timestamp. Same results.
CREATE OR REPLACE FUNCTION rqs_unix_micros(t timestamptz) RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;
CREATE OR REPLACE FUNCTION rqs_from_unix_micros(us bigint) RETURNS timestamptz
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$ SELECT timestamptz 'epoch' + us * interval '1 microsecond' $$;

-- The answer copies' format, one entry per answer separated by single
-- spaces ('' for no answer):
--   <criterion> <points> <option ids as a text[] literal>
-- e.g. '1 2 {consensus_method} 17 2 {statistic,resampling} 14 2 {}'.
CREATE FUNCTION rqs_answer_scores_of(assessment bigint) RETURNS text
LANGUAGE sql STABLE STRICT PARALLEL SAFE
AS $$
  SELECT coalesce(string_agg(x.criterion || ' ' || x.points || ' ' || x.option_ids::text, ' '
                             ORDER BY x.criterion), '')
  FROM assessment_answers x WHERE x.assessment_id = assessment
$$;

-- Each submitted assessment's answers in that format, by criterion.
CREATE TABLE assessment_scores (
  assessment_id bigint PRIMARY KEY REFERENCES assessments (id),
  answers       text NOT NULL
);

-- Once submitted, an assessment's answers can no longer change (see
-- rqs_refuse_submitted_change), so the copy taken then stays true.
CREATE FUNCTION rqs_copy_answer_scores() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO assessment_scores (assessment_id, answers)
  VALUES (NEW.id, rqs_answer_scores_of(NEW.id))
  ON CONFLICT (assessment_id) DO NOTHING;
  RETURN NULL;
END
$$;
CREATE TRIGGER assessments_copy_scores AFTER INSERT OR UPDATE OF status ON assessments
  FOR EACH ROW WHEN (NEW.status = 'SUBMITTED') EXECUTE FUNCTION rqs_copy_answer_scores();

INSERT INTO assessment_scores (assessment_id, answers)
  SELECT a.id, rqs_answer_scores_of(a.id) FROM assessments a WHERE a.status = 'SUBMITTED'
  ORDER BY a.id;

-- Each closed round's criteria (ascending) and whether each was agreed.
CREATE TABLE round_outcomes (
  study_id  bigint NOT NULL,
  round     integer NOT NULL,
  review_id bigint NOT NULL,
  criteria  integer[] NOT NULL,
  agreed    boolean[] NOT NULL CHECK (cardinality(agreed) = cardinality(criteria)),
  PRIMARY KEY (study_id, round),
  FOREIGN KEY (study_id, round) REFERENCES study_rounds (study_id, round)
);
CREATE INDEX round_outcomes_review ON round_outcomes (review_id, study_id);

CREATE FUNCTION rqs_copy_round_outcomes(closed_study bigint, closed_round integer,
                                        closed_review bigint) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO round_outcomes (study_id, round, review_id, criteria, agreed)
  SELECT closed_study, closed_round, closed_review,
         coalesce(array_agg(c.criterion ORDER BY c.criterion), '{}'),
         coalesce(array_agg(c.agreed ORDER BY c.criterion), '{}')
  FROM round_criteria c WHERE c.study_id = closed_study AND c.round = closed_round
  ON CONFLICT (study_id, round) DO NOTHING
$$;

-- A round's criteria are written after the round itself, in the same
-- transaction: the copy is taken when it commits.
CREATE FUNCTION rqs_copy_closed_round() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM rqs_copy_round_outcomes(NEW.study_id, NEW.round, NEW.review_id);
  RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER study_rounds_copy_outcomes AFTER INSERT ON study_rounds
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION rqs_copy_closed_round();

SELECT rqs_copy_round_outcomes(r.study_id, r.round, r.review_id)
  FROM study_rounds r ORDER BY r.study_id, r.round;

-- Copies of history are history: append-only like the rows they copy, and
-- audited like every table.
CREATE TRIGGER assessment_scores_append_only BEFORE UPDATE OR DELETE ON assessment_scores
  FOR EACH ROW EXECUTE FUNCTION rqs_refuse_history_change();
CREATE TRIGGER assessment_scores_no_truncate BEFORE TRUNCATE ON assessment_scores
  FOR EACH STATEMENT EXECUTE FUNCTION rqs_refuse_history_change();
CREATE TRIGGER round_outcomes_append_only BEFORE UPDATE OR DELETE ON round_outcomes
  FOR EACH ROW EXECUTE FUNCTION rqs_refuse_history_change();
CREATE TRIGGER round_outcomes_no_truncate BEFORE TRUNCATE ON round_outcomes
  FOR EACH STATEMENT EXECUTE FUNCTION rqs_refuse_history_change();
REVOKE UPDATE, DELETE, TRUNCATE ON assessment_scores, round_outcomes FROM PUBLIC, CURRENT_USER;
CREATE TRIGGER assessment_scores_audit AFTER INSERT OR UPDATE OR DELETE ON assessment_scores
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('assessment_id');
CREATE TRIGGER round_outcomes_audit AFTER INSERT OR UPDATE OR DELETE ON round_outcomes
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('study_id', 'round');

-- The consensus answers (study_consensus.answers, JSON as the store writes
-- them) in the answer copies' format, in their stored order.
CREATE FUNCTION rqs_answer_scores_from_json(answers jsonb) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT coalesce(string_agg(e.criterion || ' ' || e.points || ' ' || e.option_ids::text, ' '
                             ORDER BY e.n), '')
  FROM ROWS FROM (jsonb_to_recordset(answers)
                  AS (criterion integer, points integer, option_ids text[]))
       WITH ORDINALITY AS e(criterion, points, option_ids, n)
$$;

ALTER TABLE study_consensus
  ADD COLUMN answer_scores text GENERATED ALWAYS AS (rqs_answer_scores_from_json(answers)) STORED;
