-- @name: nexmark_q10
-- @description: Nexmark Q10: log to file system
-- Every bid with its day (dt, yyyy-MM-dd) and minute (hm, HH:mm) in UTC. Nexmark writes a CSV
-- file-system sink PARTITIONED BY (dt, hm), a file per minute with partition commits; Sluice has
-- no partitioned file sink, so this writes one JSON Lines file. DATE_FORMAT is written with
-- SUBSTRING of the ISO-8601 text of the timestamp.
CREATE STREAM nexmark_q10 AS
SELECT auction, bidder, price, dateTime, extra,
       SUBSTRING(CAST(dateTime AS STRING), 1, 10) AS dt,
       SUBSTRING(CAST(dateTime AS STRING), 12, 5) AS hm
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
