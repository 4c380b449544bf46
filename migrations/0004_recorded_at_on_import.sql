-- An event copied from another database (an import) keeps the time it was first recorded: appended with now(),
-- an imported run's stage timeline collapsed into the import's milliseconds, and its notes all read as written at
-- the import. The time is not hashed (a chain covers what happened, not when it was stored), so the copy's chains
-- are the original's. p_recorded holds seconds since 1970 (to_timestamp keeps microseconds), one per event, or is
-- NULL for events recorded now. Its default keeps the seven-argument call of older e2hd binaries working.
-- Otherwise as in 0002.
DROP FUNCTION e2h_append(text, bigint, uuid[], text[], bigint[], json[], json[]);

CREATE FUNCTION e2h_append(
    p_stream text, p_expected bigint, p_ids uuid[], p_types text[], p_schema_versions bigint[],
    p_payloads json[], p_metadata json[], p_recorded float8[] DEFAULT NULL
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
    INSERT INTO events (
        position, stream, version, id, type, schema_version, payload, metadata, hash, previous_hash, recorded_at)
    SELECT v_head + e.ordinal, p_stream, v_version + e.ordinal, e.id, e.type, e.schema_version,
           e.payload, e.metadata, e.hash, e.previous_hash, coalesce(to_timestamp(e.recorded), now())
    FROM unnest(p_ids, p_types, p_schema_versions, p_payloads, p_metadata, v_hashes, v_previous, p_recorded)
        WITH ORDINALITY AS e(id, type, schema_version, payload, metadata, hash, previous_hash, recorded, ordinal);
    RETURN QUERY SELECT 'appended'::text, v_head + 1, v_head + v_count, v_version + v_count;
END
$$;
