CREATE STREAM result AS
SELECT id, _event_time, EXTRACT(HOUR FROM _event_time) AS hour FROM iso
WITH ('iso.type' = 'file_source', 'iso.path' = 'iso.json', 'iso.format' = 'json', 'iso.schema' = 'id BIGINT, at STRING', 'iso.event.time.field' = 'at', 'iso.event.time.format' = 'iso8601', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
