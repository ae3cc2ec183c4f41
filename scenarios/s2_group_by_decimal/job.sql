-- @name: s2_group_by_decimal
-- @description: Scenario 2 with the trades' price an exact DECIMAL(12, 4): the same data, query
-- and output as s2_group_by, so that the two rates in one run give DECIMAL's cost against DOUBLE.
-- The price is read from its text exactly (codec level) and summed, averaged and compared as
-- unscaled integers; the aggregates are cast to DOUBLE only in the emitted rows, so that the
-- output has Scenario 2's columns (AVG is DECIMAL(38, 6): the oracle rounds its mean to 6 digits).
CREATE STREAM volume AS
SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, CAST(AVG(price) AS DOUBLE) AS avg_price,
       CAST(MIN(price) AS DOUBLE) AS low, CAST(MAX(price) AS DOUBLE) AS high
FROM trades
GROUP BY symbol
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:trades.jsonl}',
  'trades.format' = 'json',
  'trades.schema' = 'trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DECIMAL(12, 4), quantity BIGINT, side STRING, venue STRING, trade_time TIMESTAMP',
  'trades.partitioned.by' = 'symbol',
  'event.time.field' = 'trade_time',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '2s',
  'volume.type' = 'file_sink',
  'volume.path' = '${OUTPUT:volume.jsonl}'
);
