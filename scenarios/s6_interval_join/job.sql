-- @name: s6_interval_join
-- @description: Scenario 6: each trade joined with the trades of the same trader and symbol within
-- 500 ms of it (itself included): an interval join whose state is the last 1 s of trades of each
-- input, freed as the watermark passes. Trades arrive up to 2 s out of order; the watermark
-- allows for it, so no trade is late. The data profile and the commands to run this job by hand
-- are in README.md beside this file.
CREATE STREAM pairs AS
SELECT a.trade_id, b.trade_id AS other_id, a.trader_id, a.symbol, b.price - a.price AS price_change
FROM trades a JOIN trades b
  ON a.trader_id = b.trader_id AND a.symbol = b.symbol
 AND a.trade_time BETWEEN b.trade_time - INTERVAL '500' MILLISECOND AND b.trade_time + INTERVAL '500' MILLISECOND
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:trades.jsonl}',
  'trades.format' = 'json',
  'trades.schema' = 'trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, side STRING, venue STRING, trade_time TIMESTAMP',
  'event.time.field' = 'trade_time',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '2s',
  'pairs.type' = 'file_sink',
  'pairs.path' = '${OUTPUT:pairs.jsonl}'
);
