-- @name: nexmark_q4
-- @description: Nexmark Q4: average price for a category
-- The average winning bid per category: the highest bid of each auction while it was open (a join
-- of bids with their auction within [dateTime, expires]), averaged per category. Nexmark writes
-- the join with a comma and the predicates in WHERE; here it is JOIN ... ON. Needs a regular join
-- with a time condition and GROUP BY over its (updating) result.
CREATE STREAM nexmark_q4 AS
SELECT Q.category, AVG(Q.final) AS final
FROM (
  SELECT MAX(B.price) AS final, A.category
  FROM auction AS A JOIN bid AS B
    ON A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
  GROUP BY A.id, A.category
) AS Q
GROUP BY Q.category
WITH (
  'auction.type' = 'file_source',
  'auction.path' = '${NEXMARK:nexmark}/auctions.jsonl',
  'auction.format' = 'json',
  'auction.schema' = 'id BIGINT, itemName STRING, description STRING, initialBid BIGINT, reserve BIGINT, dateTime TIMESTAMP, expires TIMESTAMP, seller BIGINT, category BIGINT, extra STRING',
  'auction.event.time.field' = 'dateTime',
  'bid.type' = 'file_source',
  'bid.path' = '${NEXMARK:nexmark}/bids.jsonl',
  'bid.format' = 'json',
  'bid.schema' = 'auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime TIMESTAMP, extra STRING',
  'bid.event.time.field' = 'dateTime',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '4s',
  'nexmark_q4.type' = 'file_sink',
  'nexmark_q4.path' = '${OUTPUT:nexmark_q4.jsonl}'
);
