-- What a client of the store may read of the log inside its own queries (a list's filters, the reaper's sweep),
-- so that no client names this store's tables: their layout stays the store's to change under these functions.
-- Plain lookups on the (stream, version) key; each returns NULL where there is nothing to read.

-- The stream's version (its number of events).
CREATE FUNCTION e2h_stream_version(stream_name text) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT version FROM streams WHERE name = stream_name
$$;

-- The version of the stream's latest event of this type.
CREATE FUNCTION e2h_latest_version(stream_name text, event_type text) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT max(version) FROM events WHERE stream = stream_name AND type = event_type
$$;

-- The payload of the stream's latest event of this type.
CREATE FUNCTION e2h_latest_payload(stream_name text, event_type text) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT payload::jsonb FROM events WHERE stream = stream_name AND type = event_type ORDER BY version DESC LIMIT 1
$$;

-- The payload of the stream's event at this version.
CREATE FUNCTION e2h_payload_at(stream_name text, at_version bigint) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT payload::jsonb FROM events WHERE stream = stream_name AND version = at_version
$$;
