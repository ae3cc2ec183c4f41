-- @name: volume_by_symbol
-- @description: Scenario 2 of the brief: pure GROUP BY with 5 aggregations. Without a window
-- the default is EMIT CHANGES: every batch emits the updated row of each symbol it touched,
-- and the last row per symbol is the exact aggregate.
CREATE STREAM volume_by_symbol AS
SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS avg_price,
       MIN(price) AS low, MAX(price) AS high
FROM trades
GROUP BY symbol
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:examples/trades.jsonl}',
  'volume_by_symbol.type' = 'stdout_sink'
);
