-- @name: s2_group_by_1m_keys
-- @description: Scenario 2 with 1,000,000 keys: the same 5 aggregations per trader over 1,000,000 traders.
-- Without a window the default is EMIT CHANGES: each batch emits the updated row of every key
-- it touched; the last row per key is the exact aggregate.
-- Its partitions hold each trader_id whole, as a topic keyed by trader_id does: on several workers,
-- each works on the partitions it reads, with no exchange (partitioned.by).
-- The data profile and the commands to generate it and run this job by hand are in
-- README.md beside this file; `make bench` runs it through sluice-bench.
CREATE STREAM volume AS
SELECT trader_id, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS avg_price,
       MIN(price) AS low, MAX(price) AS high
FROM trades
GROUP BY trader_id
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:trades.jsonl}',
  'trades.format' = 'json',
  'trades.schema' = 'trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, side STRING, venue STRING, trade_time TIMESTAMP',
  'trades.partitioned.by' = 'trader_id',
  'event.time.field' = 'trade_time',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '2s',
  'volume.type' = 'file_sink',
  'volume.path' = '${OUTPUT:volume.jsonl}'
);
