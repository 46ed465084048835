-- Delphi consensus: each review's policy, the closed rounds of every study with
-- their per-criterion results, coordinators' adjudications, the final
-- consensus, and the review's event stream.
--
-- Everything but the policy is history: rows are only ever added, and the
-- database refuses to change or remove them (as for audit_log), so a study's
-- consensus record cannot be rewritten after the fact. The store checks the
-- sequence rules (rounds 1, 2, ... ; no round after the study ended) with the
-- study row locked; the keys below are the last line of defence.

-- The audit log must not receive the policy's label salt: it keys the
-- anonymised rater labels, and the log is readable by admins, who must not be
-- able to unblind raters through it.
CREATE OR REPLACE FUNCTION rqs_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  before_row jsonb;
  after_row  jsonb;
  key_row    jsonb;
  key_text   text := '';
BEGIN
  -- Token hashes are credentials' fingerprints: keep them out of the log.
  IF TG_OP <> 'INSERT' THEN before_row := to_jsonb(OLD) - 'token_hash' - 'label_salt'; END IF;
  IF TG_OP <> 'DELETE' THEN after_row := to_jsonb(NEW) - 'token_hash' - 'label_salt'; END IF;
  IF TG_OP = 'UPDATE' AND before_row = after_row THEN
    RETURN NULL;
  END IF;
  key_row := coalesce(after_row, before_row);
  FOR i IN 0 .. TG_NARGS - 1 LOOP
    IF i > 0 THEN key_text := key_text || '/'; END IF;
    key_text := key_text || coalesce(key_row ->> TG_ARGV[i], '');
  END LOOP;
  INSERT INTO audit_log (actor_id, action, operation, entity, entity_id, before, after)
  VALUES (nullif(current_setting('rqs.actor_id', true), '')::bigint,
          coalesce(nullif(current_setting('rqs.action', true), ''), TG_OP),
          TG_OP, TG_TABLE_NAME, key_text, before_row, after_row);
  RETURN NULL;
END
$$;

-- One per review. The defaults are scoring::ConsensusPolicy's; CreateReview
-- writes them explicitly, the defaults serve the backfill below.
CREATE TABLE review_policies (
  review_id               bigint PRIMARY KEY REFERENCES reviews (id),
  agreement_threshold     double precision NOT NULL DEFAULT 0.75
    CHECK (agreement_threshold > 0.5 AND agreement_threshold <= 1),
  max_rounds              integer NOT NULL DEFAULT 3 CHECK (max_rounds BETWEEN 1 AND 10),
  stop_when_stable        boolean NOT NULL DEFAULT true,
  level_threshold_percent double precision NOT NULL DEFAULT 50
    CHECK (level_threshold_percent >= 0 AND level_threshold_percent <= 100),
  share_rationales        boolean NOT NULL DEFAULT true,
  -- Keys the anonymised rater labels. 244 random bits from the server's
  -- strong random source (gen_random_uuid is pg_strong_random), generated here
  -- so that no client ever chooses or sees it.
  label_salt              text NOT NULL
    DEFAULT replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')
    CHECK (label_salt ~ '^[0-9a-f]{32,}$'),
  updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER review_policies_audit AFTER INSERT OR UPDATE OR DELETE ON review_policies
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('review_id');
INSERT INTO review_policies (review_id) SELECT id FROM reviews ORDER BY id;

-- A closed Delphi round of one study. Rounds are numbered 1, 2, ... per
-- study; the store adds round n+1 only after round n decided to CONTINUE.
CREATE TABLE study_rounds (
  study_id          bigint NOT NULL,
  review_id         bigint NOT NULL,
  round             integer NOT NULL CHECK (round BETWEEN 1 AND 10),
  close_reason      text NOT NULL CHECK (close_reason IN ('ALL_SUBMITTED', 'COORDINATOR')),
  closed_by         bigint REFERENCES users (id),  -- NULL: the system (last submission).
  closed_at         timestamptz NOT NULL DEFAULT now(),
  missing_rater_ids bigint[] NOT NULL DEFAULT '{}',
  changed_answers   boolean NOT NULL,
  decision          text NOT NULL CHECK (decision IN ('CONTINUE', 'CONSENSUS', 'ADJUDICATE')),
  end_reason        text NOT NULL
    CHECK (end_reason IN ('NONE', 'ALL_AGREED', 'MAX_ROUNDS', 'STABLE')),
  PRIMARY KEY (study_id, round),
  FOREIGN KEY (review_id, study_id) REFERENCES studies (review_id, id),
  -- The pairs scoring::DecideNextStep can produce.
  CHECK ((decision, end_reason) IN (('CONTINUE', 'NONE'), ('CONSENSUS', 'ALL_AGREED'),
                                    ('ADJUDICATE', 'MAX_ROUNDS'), ('ADJUDICATE', 'STABLE')))
);
CREATE INDEX study_rounds_review ON study_rounds (review_id, study_id);

-- The outcome of each criterion open in a closed round.
CREATE TABLE round_criteria (
  study_id          bigint NOT NULL,
  round             integer NOT NULL,
  criterion         integer NOT NULL CHECK (criterion >= 1),
  agreed            boolean NOT NULL,
  agreed_key        text CHECK (agreed_key <> ''),  -- Canonical answer key; NULL unless agreed.
  agreed_option_ids text[] NOT NULL DEFAULT '{}',
  agreed_points     integer NOT NULL DEFAULT 0,
  distribution      jsonb NOT NULL DEFAULT '{}'  -- Answer key -> number of raters.
    CHECK (jsonb_typeof(distribution) = 'object'),
  raters_answered   integer NOT NULL CHECK (raters_answered >= 0),
  required          integer NOT NULL CHECK (required >= 0),
  PRIMARY KEY (study_id, round, criterion),
  FOREIGN KEY (study_id, round) REFERENCES study_rounds (study_id, round),
  CHECK (agreed = (agreed_key IS NOT NULL))
);

-- A coordinator's answer to a criterion that stayed disputed; at most one per
-- criterion, so a second adjudication is a unique violation.
CREATE TABLE adjudications (
  study_id       bigint NOT NULL,
  review_id      bigint NOT NULL,
  criterion      integer NOT NULL CHECK (criterion >= 1),
  option_ids     text[] NOT NULL DEFAULT '{}',
  points         integer,  -- Set when answered by points rather than options.
  awarded_points integer NOT NULL,
  reason         text NOT NULL CHECK (btrim(reason, E' \t\r\n') <> ''),
  adjudicated_by bigint NOT NULL REFERENCES users (id),
  adjudicated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (study_id, criterion),
  FOREIGN KEY (review_id, study_id) REFERENCES studies (review_id, id),
  CHECK (points IS NULL OR cardinality(option_ids) = 0)
);
CREATE INDEX adjudications_review ON adjudications (review_id, study_id);

-- The final consensus assessment of a study, once.
CREATE TABLE study_consensus (
  study_id       bigint PRIMARY KEY,
  review_id      bigint NOT NULL,
  -- By criterion: [{criterion, option_ids, points, rationale, evidence_*}].
  answers        jsonb NOT NULL CHECK (jsonb_typeof(answers) = 'array'),
  total          integer NOT NULL,  -- May be negative: some criteria deduct points.
  max_total      integer NOT NULL CHECK (max_total >= 0),
  percent        double precision NOT NULL,
  attained_level integer NOT NULL CHECK (attained_level >= 0),
  finalised_at   timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (review_id, study_id) REFERENCES studies (review_id, id)
);
CREATE INDEX study_consensus_review ON study_consensus (review_id, study_id);

-- What happened in a review, in commit order per review (the store takes a
-- per-review lock before inserting, so a reader paging by id misses nothing).
-- Watchers learn of new rows through NOTIFY below and read them by id.
CREATE TABLE review_events (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  review_id bigint NOT NULL,
  study_id  bigint NOT NULL,
  round     integer NOT NULL CHECK (round >= 0),
  kind      text NOT NULL CHECK (kind IN ('SUBMISSION_RECEIVED', 'ROUND_CLOSED',
                                          'ADJUDICATION_REQUIRED', 'STUDY_FINALISED')),
  rater_id  bigint REFERENCES users (id),
  at        timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (review_id, study_id) REFERENCES studies (review_id, id),
  CHECK ((kind = 'SUBMISSION_RECEIVED') = (rater_id IS NOT NULL))
);
CREATE INDEX review_events_review_id ON review_events (review_id, id);

-- NOTIFY is delivered when (and only if) the transaction commits, so a
-- listener never hears of an event it cannot read yet. Identical payloads of
-- one transaction are folded into one notification by PostgreSQL.
CREATE FUNCTION rqs_notify_review_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('rqs_review_events', NEW.review_id::text);
  RETURN NULL;
END
$$;
CREATE TRIGGER review_events_notify AFTER INSERT ON review_events
  FOR EACH ROW EXECUTE FUNCTION rqs_notify_review_event();

-- History is append-only, as audit_log is.
CREATE FUNCTION rqs_refuse_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER study_rounds_append_only BEFORE UPDATE OR DELETE ON study_rounds
  FOR EACH ROW EXECUTE FUNCTION rqs_refuse_history_change();
CREATE TRIGGER study_rounds_no_truncate BEFORE TRUNCATE ON study_rounds
  FOR EACH STATEMENT EXECUTE FUNCTION rqs_refuse_history_change();
CREATE TRIGGER round_criteria_append_only BEFORE UPDATE OR DELETE ON round_criteria
  FOR EACH ROW EXECUTE FUNCTION rqs_refuse_history_change();
CREATE TRIGGER round_criteria_no_truncate BEFORE TRUNCATE ON round_criteria
  FOR EACH STATEMENT EXECUTE FUNCTION rqs_refuse_history_change();
CREATE TRIGGER adjudications_append_only BEFORE UPDATE OR DELETE ON adjudications
  FOR EACH ROW EXECUTE FUNCTION rqs_refuse_history_change();
CREATE TRIGGER adjudications_no_truncate BEFORE TRUNCATE ON adjudications
  FOR EACH STATEMENT EXECUTE FUNCTION rqs_refuse_history_change();
CREATE TRIGGER study_consensus_append_only BEFORE UPDATE OR DELETE ON study_consensus
  FOR EACH ROW EXECUTE FUNCTION rqs_refuse_history_change();
CREATE TRIGGER study_consensus_no_truncate BEFORE TRUNCATE ON study_consensus
  FOR EACH STATEMENT EXECUTE FUNCTION rqs_refuse_history_change();
CREATE TRIGGER review_events_append_only BEFORE UPDATE OR DELETE ON review_events
  FOR EACH ROW EXECUTE FUNCTION rqs_refuse_history_change();
CREATE TRIGGER review_events_no_truncate BEFORE TRUNCATE ON review_events
  FOR EACH STATEMENT EXECUTE FUNCTION rqs_refuse_history_change();

-- The owner keeps UPDATE on study_rounds only because the foreign key of
-- round_criteria locks the referenced round (FOR KEY SHARE), which needs it;
-- the trigger above still refuses every UPDATE.
REVOKE UPDATE, DELETE, TRUNCATE ON study_rounds, round_criteria, adjudications, study_consensus,
  review_events FROM PUBLIC;
REVOKE DELETE, TRUNCATE ON study_rounds FROM CURRENT_USER;
REVOKE UPDATE, DELETE, TRUNCATE ON round_criteria, adjudications, study_consensus, review_events
  FROM CURRENT_USER;

-- review_events is left out: it is itself a log of these changes.
CREATE TRIGGER study_rounds_audit AFTER INSERT OR UPDATE OR DELETE ON study_rounds
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('study_id', 'round');
CREATE TRIGGER round_criteria_audit AFTER INSERT OR UPDATE OR DELETE ON round_criteria
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('study_id', 'round', 'criterion');
CREATE TRIGGER adjudications_audit AFTER INSERT OR UPDATE OR DELETE ON adjudications
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('study_id', 'criterion');
CREATE TRIGGER study_consensus_audit AFTER INSERT OR UPDATE OR DELETE ON study_consensus
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('study_id');
