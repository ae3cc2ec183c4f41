CREATE STREAM result AS
SELECT symbol, ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY ts DESC) AS n FROM ticks
WITH ('ticks.type' = 'file_source', 'ticks.path' = 'ticks.json', 'ticks.format' = 'json', 'ticks.schema' = 'symbol STRING, price DOUBLE, ts TIMESTAMP', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
