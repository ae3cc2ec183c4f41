-- @name: first_trade_per_trader
-- @description: Deduplication: the first trade of each trader by event time, emitted once,
-- when the watermark passes it (append-only). ORDER BY trade_time DESC would keep the last
-- trade instead, as an updating result.
CREATE STREAM first_trade_per_trader AS
SELECT trader_id, trade_id, symbol, trade_time
FROM (SELECT trader_id, trade_id, symbol, trade_time,
             ROW_NUMBER() OVER (PARTITION BY trader_id ORDER BY trade_time) AS rn
      FROM trades) AS t
WHERE rn = 1
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:examples/trades.jsonl}',
  'event.time.field' = 'trade_time',
  'first_trade_per_trader.type' = 'stdout_sink'
);
