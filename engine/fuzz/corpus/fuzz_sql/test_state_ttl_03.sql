CREATE STREAM result AS
SELECT k, COUNT(*) AS n FROM shuffled GROUP BY k EMIT FINAL
WITH ('shuffled.type' = 'file_source', 'shuffled.path' = 'shuffled.json', 'shuffled.format' = 'json', 'shuffled.schema' = 'k STRING, ts TIMESTAMP', 'shuffled.event.time.field' = 'ts', 'watermark.strategy' = 'bounded_out_of_orderness', 'watermark.max_out_of_orderness' = '5s', 'state.ttl' = '10s', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
