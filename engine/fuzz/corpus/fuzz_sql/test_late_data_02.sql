CREATE STREAM result AS
SELECT COUNT(*) AS n, _window_start FROM disordered WINDOW TUMBLING(1m) EMIT FINAL
WITH ('disordered.type' = 'file_source', 'disordered.path' = 'disordered.json', 'disordered.format' = 'json', 'disordered.schema' = 'symbol STRING, ts TIMESTAMP', 'disordered.event.time.field' = 'ts', 'watermark.max_out_of_orderness' = '5s', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
