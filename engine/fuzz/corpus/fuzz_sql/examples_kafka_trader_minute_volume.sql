-- @name: kafka_trader_minute_volume
-- @description: Scenario 3a from Kafka to Kafka: per trader and symbol, the trade count, volume
-- and average price of each event-time minute, emitted once the minute is complete.
-- Reads the topic `trades` (JSON trades keyed by symbol, e.g. from `sluice datagen --kafka`) and
-- writes one JSON message per (trader, symbol, minute), keyed by trader_id, to
-- `trader_minute_volume`. Both topics must exist. The README's Kafka quickstart runs it against
-- the local mock cluster:
--   sluice run examples/kafka_trader_minute_volume.sql --set BOOTSTRAP=127.0.0.1:PORT --set STOP_AT_END=true
-- Without STOP_AT_END it runs until Ctrl-C, reading what arrives.
CREATE STREAM trader_minute_volume AS
SELECT trader_id, symbol, _window_start AS minute_start, COUNT(*) AS trades,
       SUM(quantity) AS volume, AVG(price) AS avg_price
FROM trades
GROUP BY trader_id, symbol
WINDOW TUMBLING (trade_time, INTERVAL '1' MINUTE)
EMIT FINAL
WITH (
  'trades.type' = 'kafka_source',
  'trades.topic' = 'trades',
  'trades.bootstrap.servers' = '${BOOTSTRAP:localhost:9092}',
  'trades.group.id' = '${GROUP:trader-minute-volume}',
  'trades.format' = 'json',
  'trades.schema' = 'trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, side STRING, venue STRING, trade_time TIMESTAMP',
  'trades.stop.at.end' = '${STOP_AT_END:false}',
  'event.time.field' = 'trade_time',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '2s',
  'trader_minute_volume.type' = 'kafka_sink',
  'trader_minute_volume.topic' = 'trader_minute_volume',
  'trader_minute_volume.bootstrap.servers' = '${BOOTSTRAP:localhost:9092}',
  'trader_minute_volume.key.field' = 'trader_id'
);
