-- @name: trader_minute_volume
-- @description: Scenario 3a of the brief: GROUP BY trader and symbol in 1-minute tumbling
-- event-time windows, EMIT FINAL: one row per trader, symbol and minute once the watermark
-- passes the minute's end. Trades may arrive up to 5 s out of order.
CREATE STREAM trader_minute_volume AS
SELECT trader_id, symbol, COUNT(*) AS trades, SUM(quantity) AS volume,
       _window_start AS minute_start
FROM trades
GROUP BY trader_id, symbol
WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE)
EMIT FINAL
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:examples/trades.jsonl}',
  'event.time.field' = 'trade_time',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '5s',
  'trader_minute_volume.type' = 'stdout_sink'
);
