CREATE STREAM result AS
SELECT id, _event_time FROM trades
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'id BIGINT, ts BIGINT', 'trades.event.time.field' = 'ts', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
