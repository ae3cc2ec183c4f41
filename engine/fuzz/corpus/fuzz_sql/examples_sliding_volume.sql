-- @name: sliding_volume
-- @description: per symbol, volume over the last 2 minutes, updated every minute (SLIDING
-- window, EMIT FINAL by default).
CREATE STREAM sliding_volume AS
SELECT symbol, SUM(quantity) AS volume, COUNT(*) AS trades, _window_start, _window_end
FROM trades
GROUP BY symbol
WINDOW SLIDING (trade_time, INTERVAL '2' MINUTE, INTERVAL '1' MINUTE)
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:examples/trades.jsonl}',
  'event.time.field' = 'trade_time',
  'watermark.max_out_of_orderness' = '5s',
  'sliding_volume.type' = 'stdout_sink'
);
