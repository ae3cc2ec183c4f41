-- @name: kafka_volume_by_symbol
-- @description: Scenario 2 from Kafka to Kafka: per symbol, the trade count, volume, average,
-- lowest and highest price, updated as trades arrive (EMIT CHANGES: the last message per key is
-- the exact aggregate). Reads the topic `trades` (JSON trades keyed by symbol, e.g. from
-- `sluice datagen --kafka`) and writes to `volume`, keyed by symbol. Both topics must exist.
-- The end-to-end throughput measurement in the README runs it against the local mock cluster:
--   sluice run examples/kafka_volume_by_symbol.sql --set BOOTSTRAP=127.0.0.1:PORT --set STOP_AT_END=true
CREATE STREAM volume AS
SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS avg_price,
       MIN(price) AS low, MAX(price) AS high
FROM trades
GROUP BY symbol
WITH (
  'trades.type' = 'kafka_source',
  'trades.topic' = 'trades',
  'trades.bootstrap.servers' = '${BOOTSTRAP:localhost:9092}',
  'trades.group.id' = '${GROUP:volume-by-symbol}',
  'trades.format' = 'json',
  'trades.schema' = 'trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, side STRING, venue STRING, trade_time TIMESTAMP',
  'trades.stop.at.end' = '${STOP_AT_END:false}',
  'event.time.field' = 'trade_time',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '2s',
  'volume.type' = 'kafka_sink',
  'volume.topic' = 'volume',
  'volume.bootstrap.servers' = '${BOOTSTRAP:localhost:9092}',
  'volume.key.field' = 'symbol'
);
