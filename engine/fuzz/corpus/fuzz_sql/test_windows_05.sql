CREATE STREAM result AS
SELECT user, COUNT(*) AS n, _window_start, _window_end FROM clicks GROUP BY user WINDOW SESSION (ts, INTERVAL '30' SECOND)
WITH ('clicks.type' = 'file_source', 'clicks.path' = 'clicks.json', 'clicks.format' = 'json', 'clicks.schema' = 'user STRING, ts TIMESTAMP', 'clicks.event.time.field' = 'ts', 'watermark.max_out_of_orderness' = '60s', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
