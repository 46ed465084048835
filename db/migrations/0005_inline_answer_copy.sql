-- The answer copy of a submitted assessment (0004) without a SQL-function
-- call per submission.
--
-- PostgreSQL 15 cannot inline rqs_answer_scores_of (its body reads a table),
-- so every call parsed and planned the body afresh: 3.5 % of the database's
-- CPU time under a load of submissions (perf, fmgr_sql). The same query
-- written in the trigger function is planned once per connection and kept.
-- Same copy, byte for byte. Nothing else calls rqs_answer_scores_of (0004's
-- backfill ran once), so it goes, and the format is written in one place.
CREATE OR REPLACE FUNCTION rqs_copy_answer_scores() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO assessment_scores (assessment_id, answers)
  SELECT NEW.id,
         coalesce(string_agg(x.criterion || ' ' || x.points || ' ' || x.option_ids::text, ' '
                             ORDER BY x.criterion), '')
  FROM assessment_answers x WHERE x.assessment_id = NEW.id
  ON CONFLICT (assessment_id) DO NOTHING;
  RETURN NULL;
END
$$;
DROP FUNCTION rqs_answer_scores_of(bigint);
