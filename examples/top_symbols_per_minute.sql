-- @name: top_symbols_per_minute
-- @description: Window Top-N: each minute, the two symbols with the most volume. The ranking
-- reads the windowed aggregate's stream; each minute's top 2 are emitted once, when the
-- watermark closes the window (append-only), and its state is freed then.
CREATE STREAM minute_volume AS
SELECT symbol, SUM(quantity) AS volume, _window_start, _window_end
FROM trades
GROUP BY symbol
WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE)
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:examples/trades.jsonl}',
  'event.time.field' = 'trade_time'
);

CREATE STREAM top_symbols_per_minute AS
SELECT minute, symbol, volume, rk
FROM (SELECT _window_start AS minute, _window_end, symbol, volume,
             RANK() OVER (PARTITION BY _window_start ORDER BY volume DESC) AS rk
      FROM minute_volume) AS ranked
WHERE rk <= 2
WITH ('top_symbols_per_minute.type' = 'stdout_sink');
