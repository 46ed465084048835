-- Initial schema: users, API tokens, reviews, members, studies, assignments,
-- assessments with their answers, and the append-only audit log.
--
-- Enumerations are text columns with CHECK constraints rather than enum types,
-- so a later migration can add a value inside a transaction.
-- Runs inside the migration transaction; see db/migrate.cc.

-- Timestamps cross the wire as microseconds since the Unix epoch, exactly.
CREATE FUNCTION rqs_unix_micros(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;
CREATE FUNCTION rqs_from_unix_micros(us bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT timestamptz 'epoch' + us * interval '1 microsecond' $$;

CREATE TABLE users (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name       text NOT NULL UNIQUE CHECK (name <> '' AND length(name) <= 200),
  is_admin   boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Only the SHA-256 of a token secret is stored (lower-case hex).
CREATE TABLE api_tokens (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id    bigint NOT NULL REFERENCES users (id),
  token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  label      text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE reviews (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name          text NOT NULL CHECK (name <> ''),
  instrument_id text NOT NULL CHECK (instrument_id <> ''),
  target_rrl    integer NOT NULL CHECK (target_rrl BETWEEN 0 AND 9),
  status        text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CLOSED')),
  created_by    bigint REFERENCES users (id),
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE review_members (
  review_id bigint NOT NULL REFERENCES reviews (id),
  user_id   bigint NOT NULL REFERENCES users (id),
  role      text NOT NULL CHECK (role IN ('COORDINATOR', 'RATER', 'OBSERVER')),
  added_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (review_id, user_id)
);
CREATE INDEX review_members_user_id ON review_members (user_id);

CREATE TABLE studies (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  review_id   bigint NOT NULL REFERENCES reviews (id),
  title       text NOT NULL CHECK (title <> ''),
  authors     text NOT NULL DEFAULT '',
  year        integer CHECK (year BETWEEN 1800 AND 3000),
  doi         text NOT NULL DEFAULT '',
  study_type  text NOT NULL CHECK (study_type IN ('HCR', 'DLR', 'HYBRID')),
  external_id text NOT NULL DEFAULT '',
  notes       text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  -- Target of the composite foreign keys below: a row that names both a
  -- review and a study cannot pair a study with another review.
  UNIQUE (review_id, id)
);
CREATE UNIQUE INDEX studies_review_external_id ON studies (review_id, external_id)
  WHERE external_id <> '';

-- Which rater scores which study. The rater must be a member of the review
-- (the role is checked by the store; a later Delphi migration may key this by
-- round as well).
CREATE TABLE assignments (
  review_id   bigint NOT NULL,
  study_id    bigint NOT NULL,
  rater_id    bigint NOT NULL,
  assigned_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (study_id, rater_id),
  FOREIGN KEY (review_id, study_id) REFERENCES studies (review_id, id),
  FOREIGN KEY (review_id, rater_id) REFERENCES review_members (review_id, user_id)
);
CREATE INDEX assignments_review_rater ON assignments (review_id, rater_id);

-- One per study x rater x round. `round` is 1 until Delphi rounds exist; a
-- later migration can add a rounds table and reference it.
CREATE TABLE assessments (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  review_id          bigint NOT NULL,
  study_id           bigint NOT NULL,
  rater_id           bigint NOT NULL REFERENCES users (id),
  round              integer NOT NULL DEFAULT 1 CHECK (round >= 1),
  status             text NOT NULL CHECK (status IN ('DRAFT', 'SUBMITTED')),
  instrument_id      text NOT NULL CHECK (instrument_id <> ''),
  instrument_version text NOT NULL CHECK (instrument_version <> ''),
  server_version     text NOT NULL CHECK (server_version <> ''),
  idempotency_key    text CHECK (length(idempotency_key) BETWEEN 1 AND 200),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  submitted_at       timestamptz,
  FOREIGN KEY (review_id, study_id) REFERENCES studies (review_id, id),
  UNIQUE (study_id, rater_id, round),
  -- A retried submission finds its first result through this key.
  UNIQUE (rater_id, idempotency_key),
  CHECK ((status = 'SUBMITTED') = (submitted_at IS NOT NULL)),
  CHECK ((status = 'SUBMITTED') = (idempotency_key IS NOT NULL))
);
CREATE INDEX assessments_review ON assessments (review_id, study_id);

CREATE TABLE assessment_answers (
  assessment_id    bigint NOT NULL REFERENCES assessments (id),
  criterion        integer NOT NULL CHECK (criterion >= 1),
  option_ids       text[] NOT NULL DEFAULT '{}',
  points           integer NOT NULL,
  rationale        text NOT NULL DEFAULT '',
  evidence_page    text NOT NULL DEFAULT '',
  evidence_section text NOT NULL DEFAULT '',
  evidence_quote   text NOT NULL DEFAULT '',
  PRIMARY KEY (assessment_id, criterion)
);

-- A submitted assessment is final: later rounds are new rows. Enforced here
-- so that no code path can change one by accident.
CREATE FUNCTION rqs_refuse_submitted_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  parent_status text;
BEGIN
  IF TG_TABLE_NAME = 'assessments' THEN
    parent_status := OLD.status;
  ELSE
    SELECT status INTO parent_status FROM assessments
      WHERE id = CASE WHEN TG_OP = 'INSERT' THEN NEW.assessment_id
                      ELSE OLD.assessment_id END;
  END IF;
  IF parent_status = 'SUBMITTED' THEN
    RAISE EXCEPTION 'a submitted assessment cannot be changed'
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER assessments_final BEFORE UPDATE OR DELETE ON assessments
  FOR EACH ROW EXECUTE FUNCTION rqs_refuse_submitted_change();
CREATE TRIGGER assessment_answers_final BEFORE INSERT OR UPDATE OR DELETE
  ON assessment_answers
  FOR EACH ROW EXECUTE FUNCTION rqs_refuse_submitted_change();

-- Audit log: one row per row change of every table above, written by
-- triggers so that no write path can skip it. The store sets the actor and
-- action per transaction with set_config('rqs.actor_id' / 'rqs.action').
CREATE TABLE audit_log (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  actor_id  bigint,  -- NULL: the system. No foreign key: auditing must never fail.
  action    text NOT NULL,
  operation text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
  entity    text NOT NULL,
  entity_id text NOT NULL,
  before    jsonb,
  after     jsonb
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

-- Trigger arguments name the key columns of the audited table.
CREATE FUNCTION rqs_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  before_row jsonb;
  after_row  jsonb;
  key_row    jsonb;
  key_text   text := '';
BEGIN
  -- Token hashes are credentials' fingerprints: keep them out of the log.
  IF TG_OP <> 'INSERT' THEN before_row := to_jsonb(OLD) - 'token_hash'; END IF;
  IF TG_OP <> 'DELETE' THEN after_row := to_jsonb(NEW) - 'token_hash'; END IF;
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

CREATE TRIGGER users_audit AFTER INSERT OR UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('id');
CREATE TRIGGER api_tokens_audit AFTER INSERT OR UPDATE OR DELETE ON api_tokens
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('id');
CREATE TRIGGER reviews_audit AFTER INSERT OR UPDATE OR DELETE ON reviews
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('id');
CREATE TRIGGER review_members_audit AFTER INSERT OR UPDATE OR DELETE ON review_members
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('review_id', 'user_id');
CREATE TRIGGER studies_audit AFTER INSERT OR UPDATE OR DELETE ON studies
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('id');
CREATE TRIGGER assignments_audit AFTER INSERT OR UPDATE OR DELETE ON assignments
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('study_id', 'rater_id');
CREATE TRIGGER assessments_audit AFTER INSERT OR UPDATE OR DELETE ON assessments
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('id');
CREATE TRIGGER assessment_answers_audit AFTER INSERT OR UPDATE OR DELETE
  ON assessment_answers
  FOR EACH ROW EXECUTE FUNCTION rqs_audit('assessment_id', 'criterion');

-- The audit log is append-only. The trigger holds even for a superuser or the
-- owner; the REVOKE makes the intent visible in the table's privileges and
-- stops any other role the server may run as.
CREATE FUNCTION rqs_refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION rqs_refuse_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION rqs_refuse_audit_change();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM CURRENT_USER;
