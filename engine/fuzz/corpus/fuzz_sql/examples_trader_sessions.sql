-- @name: trader_sessions
-- @description: per trader, bursts of activity: trades less than 20 seconds apart form one
-- session (SESSION window), emitted once the session has ended (EMIT FINAL); the running
-- count as it grows would be EMIT CHANGES.
CREATE STREAM trader_sessions AS
SELECT trader_id, COUNT(*) AS trades, SUM(quantity) AS volume, _window_start, _window_end
FROM trades
GROUP BY trader_id
WINDOW SESSION (trade_time, INTERVAL '20' SECOND)
EMIT FINAL
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:examples/trades.jsonl}',
  'event.time.field' = 'trade_time',
  'watermark.max_out_of_orderness' = '5s',
  'trader_sessions.type' = 'stdout_sink'
);
