-- @name: s4_multi_source
-- @description: Scenario 4: the Scenario 3a query over a source split into 1, 2, 8 or 32 partitions, each
-- with its own watermark, merged by minimum (the brief's multi-source targets).
-- Trades arrive up to 2 s out of order; the watermark allows for it, so no trade is late.
-- Partitions of unequal size are kept within 10 s of event time of each other (alignment).
-- The data profile and the commands to generate it and run this job by hand are in
-- README.md beside this file; `make bench` runs it through sluice-bench.
CREATE STREAM trader_minute AS
SELECT trader_id, symbol, _window_start AS minute_start, COUNT(*) AS trades,
       SUM(quantity) AS volume, AVG(price) AS avg_price
FROM trades
GROUP BY trader_id, symbol
WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE)
EMIT FINAL
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:trades.jsonl}',
  'trades.format' = 'json',
  'trades.schema' = 'trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, side STRING, venue STRING, trade_time TIMESTAMP',
  'event.time.field' = 'trade_time',
  'watermark.alignment.max_drift' = '10s',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '2s',
  'trader_minute.type' = 'file_sink',
  'trader_minute.path' = '${OUTPUT:trader_minute.jsonl}'
);
