-- @name: s1_rows_window
-- @description: Scenario 1 of the brief: per symbol, the average, low and high price of the
-- last 100 market-data ticks (ROWS WINDOW BUFFER 100), one output row per tick.
-- Its partitions hold each symbol whole, as a topic keyed by symbol does: on several workers,
-- each works on the partitions it reads, with no exchange (partitioned.by).
-- The data profile and the commands to generate it and run this job by hand are in
-- README.md beside this file; `make bench` runs it through sluice-bench.
CREATE STREAM moving_stats AS
SELECT symbol, price, timestamp,
       AVG(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY timestamp) AS avg_100,
       MIN(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY timestamp) AS low_100,
       MAX(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY timestamp) AS high_100
FROM market_data
WITH (
  'market_data.type' = 'file_source',
  'market_data.path' = '${MARKET:market.jsonl}',
  'market_data.format' = 'json',
  'market_data.schema' = 'symbol STRING, price DOUBLE, bid DOUBLE, ask DOUBLE, volume BIGINT, timestamp TIMESTAMP',
  'market_data.partitioned.by' = 'symbol',
  'event.time.field' = 'timestamp',
  'moving_stats.type' = 'file_sink',
  'moving_stats.path' = '${OUTPUT:moving_stats.jsonl}'
);
