-- @name: moving_average
-- @description: Scenario 1 of the brief: per symbol, the average, low and high of the last 100
-- trades, one output row per trade.
CREATE STREAM moving_average AS
SELECT trade_id, symbol, price,
       AVG(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY trade_time) AS avg_100,
       MIN(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY trade_time) AS low_100,
       MAX(price) OVER (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY trade_time) AS high_100
FROM trades
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:examples/trades.jsonl}',
  'moving_average.type' = 'stdout_sink'
);
