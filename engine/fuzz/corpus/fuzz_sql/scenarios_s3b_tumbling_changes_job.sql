-- @name: s3b_tumbling_changes
-- @description: Scenario 3b of the brief: the Scenario 3a query with EMIT CHANGES: every batch emits the updated row of each window and key it touched.
-- Trades arrive up to 2 s out of order; the watermark allows for it, so no trade is late.
-- Its partitions hold each trader_id whole, as a topic keyed by trader_id does: on several workers,
-- each works on the partitions it reads, with no exchange (partitioned.by).
-- The data profile and the commands to generate it and run this job by hand are in
-- README.md beside this file; `make bench` runs it through sluice-bench.
CREATE STREAM trader_minute AS
SELECT trader_id, symbol, _window_start AS minute_start, COUNT(*) AS trades,
       SUM(quantity) AS volume, AVG(price) AS avg_price
FROM trades
GROUP BY trader_id, symbol
WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE)
EMIT CHANGES
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:trades.jsonl}',
  'trades.format' = 'json',
  'trades.schema' = 'trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, side STRING, venue STRING, trade_time TIMESTAMP',
  'trades.partitioned.by' = 'trader_id',
  'event.time.field' = 'trade_time',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '2s',
  'trader_minute.type' = 'file_sink',
  'trader_minute.path' = '${OUTPUT:trader_minute.jsonl}'
);
