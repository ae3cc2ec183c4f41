-- @name: nexmark_q14
-- @description: Nexmark Q14: calculation
-- Bids priced between 1,000,000 and 50,000,000 euros, with the time of day (dayTime 8-18h,
-- nightTime up to 6h and from 20h, otherwise otherTime) and the number of 'c' in extra. Nexmark
-- counts with a UDF (count_char); Sluice has no UDFs, so the count is written with built-ins:
-- LENGTH(extra) - LENGTH(REPLACE(extra, 'c', '')). HOUR(x) is EXTRACT(HOUR FROM x).
CREATE STREAM nexmark_q14 AS
SELECT auction, bidder, 0.908 * price AS price,
       CASE
         WHEN EXTRACT(HOUR FROM dateTime) >= 8 AND EXTRACT(HOUR FROM dateTime) <= 18 THEN 'dayTime'
         WHEN EXTRACT(HOUR FROM dateTime) <= 6 OR EXTRACT(HOUR FROM dateTime) >= 20 THEN 'nightTime'
         ELSE 'otherTime'
       END AS bidTimeType,
       dateTime, extra,
       LENGTH(extra) - LENGTH(REPLACE(extra, 'c', '')) AS c_counts
FROM bid
WHERE 0.908 * price > 1000000 AND 0.908 * price < 50000000
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q14.type' = 'file_sink',
  'nexmark_q14.path' = '${OUTPUT:nexmark_q14.jsonl}'
);
