-- @name: nexmark_q6
-- @description: Nexmark Q6: average selling price by seller
-- Per seller, the average winning price of their last 10 closed auctions: the winning bid of
-- each auction (join of auctions and bids within [dateTime, expires], Top-1 by price per
-- auction), then a ROWS window of 11 rows per seller. Nexmark's own text puts rownum in the WHERE
-- of the query that defines it (Flink does not run it either); this is the query it means. Needs
-- a regular join, Top-N over its updating result, and a ROWS window over an updating input.
CREATE STREAM nexmark_q6 AS
SELECT Q.seller,
       AVG(Q.price) OVER (PARTITION BY Q.seller ORDER BY Q.dateTime
                          ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) AS avg_price
FROM (
  SELECT id, seller, price, dateTime
  FROM (
    SELECT A.id, A.seller, B.price, B.dateTime,
           ROW_NUMBER() OVER (PARTITION BY A.id, A.seller ORDER BY B.price DESC) AS rownum
    FROM auction AS A JOIN bid AS B
      ON A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
  ) AS W
  WHERE rownum <= 1
) AS Q
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
  'nexmark_q6.type' = 'file_sink',
  'nexmark_q6.path' = '${OUTPUT:nexmark_q6.jsonl}'
);
