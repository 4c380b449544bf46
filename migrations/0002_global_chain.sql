-- The global chain: a per-stream chain cannot see its own tail cut off (rewind the stream row and the last
-- events are gone without a trace), so every append also extends one database-wide hash over all streams,
-- kept in the log head:
--   head hash = SHA-256(previous head hash ‖ position as 8 bytes big endian ‖ the event's stream hash),
-- folded over every event in position order from 32 zero bytes. The event's stream hash already covers its
-- content and its stream's history, so the head hash commits to the whole log in commit order.
-- GlobalChain.swift recomputes it; a signed copy kept outside the database (receipts, the daemon's witness)
-- is what makes a rewritten or shortened log evident even to someone who can recompute every hash.
ALTER TABLE log_head
    ADD COLUMN hash bytea NOT NULL DEFAULT decode(repeat('00', 32), 'hex') CHECK (length(hash) = 32);

-- The head hash of a database made before this migration: folded over its events as they are.
DO $$
DECLARE
    v_hash bytea := decode(repeat('00', 32), 'hex');
    v_event record;
BEGIN
    FOR v_event IN SELECT position, hash FROM events ORDER BY position LOOP
        v_hash := sha256(v_hash || int8send(v_event.position) || v_event.hash);
    END LOOP;
    UPDATE log_head SET hash = v_hash WHERE singleton;
END
$$;

-- As in 0001, with the head hash extended at the end (the head row is still locked last, so appends to
-- different streams serialize only there, and positions and hashes follow commit order).
CREATE OR REPLACE FUNCTION e2h_append(
    p_stream text, p_expected bigint, p_ids uuid[], p_types text[], p_schema_versions bigint[],
    p_payloads json[], p_metadata json[]
) RETURNS TABLE (outcome text, first_position bigint, last_position bigint, stream_version bigint)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
SET enable_seqscan = off
AS $$
DECLARE
    v_count integer := cardinality(p_ids);
    v_stream bytea := convert_to(p_stream, 'UTF8');
    v_version bigint;
    v_hash bytea;
    v_hashes bytea[] := '{}';
    v_previous bytea[] := '{}';
    v_type bytea;
    v_payload bytea;
    v_metadata bytea;
    v_head bigint;
    v_global bytea;
BEGIN
    SELECT s.version, s.last_hash INTO v_version, v_hash FROM streams s WHERE s.name = p_stream FOR UPDATE;
    IF NOT FOUND THEN
        IF p_expected > 0 THEN
            RETURN QUERY SELECT 'conflict'::text, NULL::bigint, NULL::bigint, NULL::bigint;
            RETURN;
        END IF;
        IF EXISTS (SELECT 1 FROM events e WHERE e.id = ANY (p_ids)) THEN
            RETURN QUERY SELECT 'exists'::text, NULL::bigint, NULL::bigint, NULL::bigint;
            RETURN;
        END IF;
        INSERT INTO streams (name, version, last_hash) VALUES (p_stream, 0, decode(repeat('00', 32), 'hex'))
            ON CONFLICT (name) DO NOTHING;
        SELECT s.version, s.last_hash INTO v_version, v_hash FROM streams s WHERE s.name = p_stream FOR UPDATE;
    END IF;
    IF p_expected >= 0 AND v_version <> p_expected THEN
        RETURN QUERY SELECT 'conflict'::text, NULL::bigint, NULL::bigint, v_version;
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM events e WHERE e.id = ANY (p_ids)) THEN
        RETURN QUERY SELECT 'exists'::text, NULL::bigint, NULL::bigint, v_version;
        RETURN;
    END IF;
    FOR i IN 1 .. v_count LOOP
        v_previous := array_append(v_previous, v_hash);
        v_type := convert_to(p_types[i], 'UTF8');
        v_payload := convert_to(p_payloads[i]::text, 'UTF8');
        v_metadata := convert_to(p_metadata[i]::text, 'UTF8');
        v_hash := sha256(
            v_hash
            || int4send(octet_length(v_stream)) || v_stream
            || int8send(v_version + i)
            || uuid_send(p_ids[i])
            || int4send(octet_length(v_type)) || v_type
            || int8send(p_schema_versions[i])
            || int4send(octet_length(v_payload)) || v_payload
            || int4send(octet_length(v_metadata)) || v_metadata);
        v_hashes := array_append(v_hashes, v_hash);
    END LOOP;
    UPDATE streams SET version = v_version + v_count, last_hash = v_hash WHERE name = p_stream;
    SELECT h.position, h.hash INTO v_head, v_global FROM log_head h WHERE h.singleton FOR UPDATE;
    FOR i IN 1 .. v_count LOOP
        v_global := sha256(v_global || int8send(v_head + i) || v_hashes[i]);
    END LOOP;
    UPDATE log_head SET position = v_head + v_count, hash = v_global WHERE singleton;
    INSERT INTO events (position, stream, version, id, type, schema_version, payload, metadata, hash, previous_hash)
    SELECT v_head + e.ordinal, p_stream, v_version + e.ordinal, e.id, e.type, e.schema_version,
           e.payload, e.metadata, e.hash, e.previous_hash
    FROM unnest(p_ids, p_types, p_schema_versions, p_payloads, p_metadata, v_hashes, v_previous)
        WITH ORDINALITY AS e(id, type, schema_version, payload, metadata, hash, previous_hash, ordinal);
    RETURN QUERY SELECT 'appended'::text, v_head + 1, v_head + v_count, v_version + v_count;
END
$$;
