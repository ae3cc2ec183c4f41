CREATE STREAM result AS
SELECT user, COUNT(*) AS n, _window_start, _window_end FROM taps GROUP BY user WINDOW SESSION (ts, INTERVAL '30' SECOND)
WITH ('taps.type' = 'file_source', 'taps.path' = 'taps.json', 'taps.format' = 'json', 'taps.schema' = 'user STRING, ts TIMESTAMP', 'taps.event.time.field' = 'ts', 'watermark.max_out_of_orderness' = '60s', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
