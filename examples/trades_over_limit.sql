-- @name: trades_over_limit
-- @description: A lookup join: each trade looks up its trader's limit as of the trade's time
-- in a versioned table (a CSV file: a row per limit change, valid from its time); the trades
-- whose notional exceeds it, or whose trader has no limit, come out. The table is read whole
-- at start; the output appends.
CREATE STREAM trades_over_limit AS
SELECT t.trade_id, t.trader_id, l.desk, t.price * t.quantity AS notional, l.max_notional, l.valid_from
FROM trades t
LEFT JOIN trader_limits FOR SYSTEM_TIME AS OF t.trade_time AS l ON t.trader_id = l.trader_id
WHERE l.max_notional IS NULL OR t.price * t.quantity > l.max_notional
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:examples/trades.jsonl}',
  'event.time.field' = 'trade_time',
  'trader_limits.type' = 'file_source',
  'trader_limits.path' = '${LIMITS:examples/trader_limits.csv}',
  'trader_limits.primary.key' = 'trader_id',
  'trader_limits.event.time.field' = 'valid_from',
  'trades_over_limit.type' = 'stdout_sink'
);
