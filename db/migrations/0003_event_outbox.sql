-- Review events without a review-wide lock across commits.
--
-- 0002 gave events their ids in commit order by taking a per-review lock
-- before inserting them and holding it until commit. Every submission to a
-- review then waited for the previous one's WAL flush: one review could not
-- commit faster than the disk syncs (about 270 a second here), and
-- PostgreSQL's group commit never got two of them to share a flush.
--
-- Now a change records its events, in its own transaction, in this outbox,
-- which takes no lock. Readers move what has committed into review_events
-- before they read (rqs_sequence_review_events): the movers take the
-- per-review lock instead, so review_events still gets its ids in commit
-- order and a reader paging by id still misses nothing, while the writers'
-- commits overlap again. An event is visible to readers once its change has
-- committed, as before.
--
-- The outbox is a queue, not history: rows leave it for review_events, which
-- keeps them for good. So it has no audit trigger (the change an event
-- describes is audited in its own table).
CREATE TABLE review_event_outbox (
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
CREATE INDEX review_event_outbox_review_id ON review_event_outbox (review_id, id);

-- Listeners now hear of an event when its change commits, i.e. when it
-- reaches the outbox; they sequence it as they read.
DROP TRIGGER review_events_notify ON review_events;
CREATE TRIGGER review_event_outbox_notify AFTER INSERT ON review_event_outbox
  FOR EACH ROW EXECUTE FUNCTION rqs_notify_review_event();

-- Moves the review's committed outbox rows into review_events, in outbox
-- order. The per-review lock (the key space is "rqse" in ASCII, the second
-- key hashint8(review_id); a collision only serialises two reviews' movers)
-- is held until the caller's transaction commits, so movers commit one
-- after another and review_events ids increase in commit order. The DELETE
-- starts after the lock is granted, so it never sees rows that an earlier
-- mover has already taken. Returns the number of events moved.
CREATE FUNCTION rqs_sequence_review_events(p_review_id bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  moved_count bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(1920037733, hashint8(p_review_id));
  WITH moved AS (
    DELETE FROM review_event_outbox WHERE review_id = p_review_id
    RETURNING id, review_id, study_id, round, kind, rater_id, at
  )
  INSERT INTO review_events (review_id, study_id, round, kind, rater_id, at)
  SELECT review_id, study_id, round, kind, rater_id, at FROM moved ORDER BY id;
  GET DIAGNOSTICS moved_count = ROW_COUNT;
  RETURN moved_count;
END
$$;

-- Events recorded under 0002 are already in review_events; nothing to move.
