-- @name: s2_group_by_kafka
-- @description: The Scenario 2 query from Kafka to Kafka, for the lab's e2e level: reads
-- JSON trades from ${INPUT_TOPIC} and writes the EMIT CHANGES rows to ${OUTPUT_TOPIC}, keyed by
-- symbol (so each symbol's updates stay in order in one partition). sluice-bench starts the
-- mock cluster, produces the trades and sets every variable; see README.md ("Benchmarks").
CREATE STREAM volume AS
SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS avg_price,
       MIN(price) AS low, MAX(price) AS high
FROM trades
GROUP BY symbol
WITH (
  'trades.type' = 'kafka_source',
  'trades.topic' = '${INPUT_TOPIC:trades}',
  'trades.bootstrap.servers' = '${BOOTSTRAP:localhost:9092}',
  'trades.group.id' = '${GROUP:s2-group-by}',
  'trades.format' = 'json',
  'trades.schema' = 'trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, side STRING, venue STRING, trade_time TIMESTAMP',
  'trades.stop.at.end' = '${STOP_AT_END:false}',
  'event.time.field' = 'trade_time',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '2s',
  'volume.type' = 'kafka_sink',
  'volume.topic' = '${OUTPUT_TOPIC:volume}',
  'volume.bootstrap.servers' = '${BOOTSTRAP:localhost:9092}',
  'volume.key.field' = 'symbol'
);
