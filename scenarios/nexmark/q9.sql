-- @name: nexmark_q9
-- @description: Nexmark Q9: winning bids
-- Each auction with its winning bid: the highest bid while it was open (earliest first among
-- equal prices). Needs a regular join with a time condition and Top-1 (ROW_NUMBER) over it.
CREATE STREAM nexmark_q9 AS
SELECT id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra,
       auction, bidder, price, bid_dateTime, bid_extra
FROM (
  SELECT A.*, B.auction, B.bidder, B.price, B.dateTime AS bid_dateTime, B.extra AS bid_extra,
         ROW_NUMBER() OVER (PARTITION BY A.id ORDER BY B.price DESC, B.dateTime ASC) AS rownum
  FROM auction AS A JOIN bid AS B
    ON A.id = B.auction AND B.dateTime BETWEEN A.dateTime AND A.expires
) AS T
WHERE rownum <= 1
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
  'nexmark_q9.type' = 'file_sink',
  'nexmark_q9.changelog.mode' = 'changelog',
  'nexmark_q9.path' = '${OUTPUT:nexmark_q9.jsonl}'
);
