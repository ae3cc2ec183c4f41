-- @name: nexmark_q16
-- @description: Nexmark Q16: channel statistics report
-- q15 per channel and day, with the latest minute (HH:mm) seen. Translation as q15; MAX of
-- DATE_FORMAT(dateTime, 'HH:mm') is MAX(SUBSTRING(CAST(dateTime AS STRING), 12, 5)).
CREATE STREAM nexmark_q16 AS
SELECT channel,
       SUBSTRING(CAST(dateTime AS STRING), 1, 10) AS day,
       MAX(SUBSTRING(CAST(dateTime AS STRING), 12, 5)) AS minute,
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
GROUP BY channel, SUBSTRING(CAST(dateTime AS STRING), 1, 10)
WITH (
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q16.type' = 'file_sink',
  'nexmark_q16.path' = '${OUTPUT:nexmark_q16.jsonl}'
);
