-- @name: top_trades
-- @description: Top-N: per symbol, the three largest trades by quantity (the earlier trade
-- first on a tie). An updating result: a trade pushed out of the top 3 is deleted, and a
-- trade whose rank changes is deleted with its old rank and inserted with its new one.
CREATE STREAM top_trades AS
SELECT symbol, trade_id, quantity, rn
FROM (SELECT symbol, trade_id, quantity,
             ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY quantity DESC, trade_id) AS rn
      FROM trades) AS t
WHERE rn <= 3
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:examples/trades.jsonl}',
  'event.time.field' = 'trade_time',
  'top_trades.type' = 'stdout_sink',
  'top_trades.changelog.mode' = 'changelog'
);
