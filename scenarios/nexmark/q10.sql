-- @name: nexmark_q10
-- @description: Nexmark Q10: log to file system
-- Every bid with its day (dt, yyyy-MM-dd) and minute (hm, HH:mm) in UTC, written with
-- DATE_FORMAT. Nexmark writes a CSV file-system sink partitioned by (dt, hm), a file per minute
-- with partition commits, as flink/q10.sql does ('<sink>.partition.by' in this dialect); this
-- job writes one JSON Lines file, which the oracle test reads.
CREATE STREAM nexmark_q10 AS
SELECT auction, bidder, price, dateTime, extra,
       DATE_FORMAT(dateTime, 'yyyy-MM-dd') AS dt,
       DATE_FORMAT(dateTime, 'HH:mm') AS hm
FROM bid
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q10.type' = 'file_sink',
  'nexmark_q10.path' = '${OUTPUT:nexmark_q10.jsonl}'
);
