-- @name: nexmark_q15
-- @description: Nexmark Q15: bidding statistics report
-- Per day: bids, distinct bidders and distinct auctions, in all and by price rank (below 10,000;
-- 10,000 to 1,000,000; above). An unwindowed GROUP BY: its rows are updates (EMIT CHANGES), the
-- last one per day is the result. Translation: aggregate FILTER (WHERE c) is written SUM(CASE WHEN c THEN 1 ELSE 0 END) for COUNT(*) and
-- COUNT(DISTINCT CASE WHEN c THEN x END) for COUNT(DISTINCT x) (NULLs are not counted);
-- DATE_FORMAT(dateTime, 'yyyy-MM-dd') is SUBSTRING(CAST(dateTime AS STRING), 1, 10).
CREATE STREAM nexmark_q15 AS
SELECT SUBSTRING(CAST(dateTime AS STRING), 1, 10) AS day,
       COUNT(*) AS total_bids,
       SUM(CASE WHEN price < 10000 THEN 1 ELSE 0 END) AS rank1_bids,
       SUM(CASE WHEN price >= 10000 AND price < 1000000 THEN 1 ELSE 0 END) AS rank2_bids,
       SUM(CASE WHEN price >= 1000000 THEN 1 ELSE 0 END) AS rank3_bids,
       COUNT(DISTINCT bidder) AS total_bidders,
       COUNT(DISTINCT CASE WHEN price < 10000 THEN bidder END) AS rank1_bidders,
       COUNT(DISTINCT CASE WHEN price >= 10000 AND price < 1000000 THEN bidder END) AS rank2_bidders,
       COUNT(DISTINCT CASE WHEN price >= 1000000 THEN bidder END) AS rank3_bidders,
       COUNT(DISTINCT auction) AS total_auctions,
       COUNT(DISTINCT CASE WHEN price < 10000 THEN auction END) AS rank1_auctions,
       COUNT(DISTINCT CASE WHEN price >= 10000 AND price < 1000000 THEN auction END) AS rank2_auctions,
       COUNT(DISTINCT CASE WHEN price >= 1000000 THEN auction END) AS rank3_auctions
FROM bid
GROUP BY SUBSTRING(CAST(dateTime AS STRING), 1, 10)
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q15.type' = 'file_sink',
  'nexmark_q15.path' = '${OUTPUT:nexmark_q15.jsonl}'
);
