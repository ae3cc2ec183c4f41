-- @name: nexmark_q17
-- @description: Nexmark Q17: auction statistics report
-- Per auction and day: bids in all and by price rank, and the lowest, highest, average and total
-- price. Nexmark's avg_price column is BIGINT (Flink's AVG of BIGINT truncates); here AVG is a
-- DOUBLE. Translation of FILTER and DATE_FORMAT as in q15.
CREATE STREAM nexmark_q17 AS
SELECT auction,
       SUBSTRING(CAST(dateTime AS STRING), 1, 10) AS day,
       COUNT(*) AS total_bids,
       SUM(CASE WHEN price < 10000 THEN 1 ELSE 0 END) AS rank1_bids,
       SUM(CASE WHEN price >= 10000 AND price < 1000000 THEN 1 ELSE 0 END) AS rank2_bids,
       SUM(CASE WHEN price >= 1000000 THEN 1 ELSE 0 END) AS rank3_bids,
       MIN(price) AS min_price,
       MAX(price) AS max_price,
       AVG(price) AS avg_price,
       SUM(price) AS sum_price
FROM bid
GROUP BY auction, SUBSTRING(CAST(dateTime AS STRING), 1, 10)
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q17.type' = 'file_sink',
  'nexmark_q17.path' = '${OUTPUT:nexmark_q17.jsonl}'
);
